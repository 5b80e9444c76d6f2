package dev.whet.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Issue 17, item 1: baselines choose their setting on held-out rows, never on the test rows. */
class TuningTest {
  @Test
  void foldsAreStratifiedDisjointAndCoverEveryRow() {
    int[] labels = new int[100];
    for (int i = 0; i < 100; i++) labels[i] = i < 80 ? 0 : 1; // 80 / 20
    Tuning.Plan plan = Tuning.crossValidation(labels, 2, 0);
    assertEquals(5, plan.folds().size());
    int[] seen = new int[100];
    for (Tuning.Fold f : plan.folds()) {
      assertEquals(100, f.train().length + f.eval().length);
      long minority = Arrays.stream(f.eval()).filter(i -> labels[i] == 1).count();
      assertEquals(4, minority, "each fold holds a fifth of each class");
      for (int i : f.eval()) seen[i]++;
    }
    assertArrayEquals(java.util.stream.IntStream.generate(() -> 1).limit(100).toArray(), seen);
    // A class of three rows allows three folds, not five.
    int[] small = {0, 0, 0, 0, 0, 0, 1, 1, 1};
    assertEquals(3, Tuning.crossValidation(small, 2, 0).folds().size());
  }

  @Test
  void choosesTheBestMeanScoreAndTheFirstOfEqualOnes() {
    int[] labels = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
    Tuning.Plan plan = Tuning.crossValidation(labels, 2, 0);
    // Setting 0 predicts everything 0, setting 1 the truth, setting 2 the truth too.
    Tuning.Choice c =
        Tuning.choose(
            plan,
            labels,
            2,
            3,
            fold -> {
              int[] truth = Tuning.pick(labels, fold.eval());
              return new int[][] {new int[truth.length], truth, truth.clone()};
            });
    assertEquals(1, c.index());
    assertEquals(1.0, c.score(), 1e-12);
    assertTrue(c.scores()[0] < 0.5);
    assertTrue(
        c.describe("k=3").startsWith("k=3, chosen by 5-fold cross-validation"), c.describe("k=3"));
  }

  /**
   * With a validation set the setting is chosen there: its rows score, the training rows fit, and
   * the test rows play no part.
   */
  @Test
  void aValidationSetChoosesInsteadOfCrossValidation() {
    Tuning.Plan plan = Tuning.validation(6, 4);
    assertEquals(1, plan.folds().size());
    assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, plan.folds().get(0).train());
    assertArrayEquals(new int[] {6, 7, 8, 9}, plan.folds().get(0).eval());
    assertEquals("the validation file", plan.how());
  }

  /**
   * kNN on two noisy clusters: one neighbour overfits the label noise, so cross-validation picks a
   * larger k, and the tuned kNN is at least as good on the test rows as the fixed k of 1.
   */
  @Test
  void tunedKnnPicksALargerKOnNoisyLabels() {
    Random r = new Random(1);
    List<float[]> x = new ArrayList<>();
    List<Integer> y = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      int c = i % 2;
      x.add(new float[] {(float) (c * 2 - 1 + r.nextGaussian()), (float) r.nextGaussian(), 1});
      y.add(r.nextDouble() < 0.2 ? 1 - c : c); // a fifth of the labels flipped
    }
    float[][] train = x.subList(0, 400).toArray(new float[0][]);
    int[] trainY = y.subList(0, 400).stream().mapToInt(Integer::intValue).toArray();
    float[][] test = x.subList(400, 600).toArray(new float[0][]);
    int[] testY = y.subList(400, 600).stream().mapToInt(Integer::intValue).toArray();
    Baselines.Tuned tuned =
        Baselines.tunedKnn(new Baselines.TuningData<>(train, trainY, null, null), test, 2);
    assertTrue(!tuned.setting().startsWith("k=1,"), tuned.setting());
    double one = Metrics.f1Macro(testY, Baselines.knn(train, trainY, test, 2, 1).labels(), 2);
    double best = Metrics.f1Macro(testY, tuned.predictions().labels(), 2);
    assertTrue(best >= one, best + " < " + one + " with " + tuned.setting());
  }
}
