package dev.whet.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Issue 17, item 3: multi-label models get their metrics, thresholds, baselines and verdict. */
class MultiLabelEvaluationTest {
  static final double EXACT = 1e-12;

  /** The scores of predictions at threshold 0.5 are scikit-learn's (multilabel.json). */
  @Test
  void scoresMatchSklearn() {
    JsonNode f = Fixtures.load("multilabel.json");
    boolean[][] gold = Fixtures.booleans(f.get("gold"));
    boolean[][] pred = Fixtures.booleans(f.get("pred"));
    int k = gold[0].length;
    List<String> labels = new ArrayList<>();
    for (int j = 0; j < k; j++) labels.add("l" + j);
    List<String> texts = Collections.nCopies(gold.length, "x");
    MultiLabelEvaluation ev =
        new MultiLabelEvaluation(labels, gold, texts, texts, gold, new Bootstrap());
    double[][] probs = new double[pred.length][k];
    for (int i = 0; i < pred.length; i++)
      for (int j = 0; j < k; j++) probs[i][j] = pred[i][j] ? 0.9 : 0.1;
    SystemResult r =
        ev.add(
            "fine_tuned", "Fine-tuned model", probs, MultiLabelEvaluation.uniform(k, 0.5), 1, null);
    assertEquals(f.get("subset_accuracy").asDouble(), r.accuracy(), EXACT);
    assertEquals(f.get("f1_macro").asDouble(), r.f1Macro(), EXACT);
    assertTrue(
        r.f1MacroInterval().low() <= r.f1Macro() && r.f1Macro() <= r.f1MacroInterval().high());
    EvalResult result = ev.result("run", "fine_tuned", "0.5", null, null, Map.of());
    MultiLabelEvaluation.SystemScores s = result.multiLabel().systems().get("fine_tuned");
    assertEquals(f.get("f1_micro").asDouble(), s.microF1(), EXACT);
    assertEquals(f.get("hamming_loss").asDouble(), s.hammingLoss(), EXACT);
    assertEquals(k, s.labels().size());
    assertNull(result.errors(), "error analysis is single-label");
    assertTrue(result.verdict().contains("No baseline was run"), result.verdict());
  }

  /** Each label gets the threshold with its best F1; a label never present keeps 0.5. */
  @Test
  void thresholdsAreTunedPerLabel() {
    boolean[][] gold = {{true, false}, {true, false}, {false, false}, {false, false}};
    // Label 0's positives score 0.3 and 0.35, its negatives 0.1 and 0.2: 0.5 would miss both.
    double[][] probs = {{0.3, 0.9}, {0.35, 0.1}, {0.1, 0.2}, {0.2, 0.3}};
    double[] t = MultiLabelEvaluation.tuneThresholds(gold, probs);
    assertEquals(0.25, t[0], 1e-9, "the lowest threshold separating them");
    assertEquals(0.5, t[1], 1e-9, "no positives to tune on");
  }

  /**
   * On texts whose labels are words in them, the TF-IDF baseline (tuned by cross-validation) finds
   * them; the verdict compares the fine-tuned system with it.
   */
  @Test
  void baselinesAreTunedAndCompared() {
    Random r = new Random(3);
    String[] words = {"refund", "late", "broken", "thanks"};
    List<String> train = new ArrayList<>();
    List<boolean[]> trainGold = new ArrayList<>();
    for (int i = 0; i < 160; i++) {
      boolean[] g = new boolean[3];
      StringBuilder b = new StringBuilder("my order");
      for (int j = 0; j < 3; j++) {
        g[j] = r.nextBoolean();
        if (g[j]) b.append(' ').append(words[j]);
      }
      if (r.nextBoolean()) b.append(' ').append(words[3]);
      train.add(b.toString());
      trainGold.add(g);
    }
    List<String> test = train.subList(120, 160);
    boolean[][] testGold = trainGold.subList(120, 160).toArray(new boolean[0][]);
    MultiLabelEvaluation ev =
        new MultiLabelEvaluation(
            List.of("refund", "late", "broken"),
            testGold,
            test,
            train.subList(0, 120),
            trainGold.subList(0, 120).toArray(new boolean[0][]),
            new Bootstrap());
    double[][] chance = new double[test.size()][3];
    for (double[] row : chance) java.util.Arrays.fill(row, 0.6);
    ev.add("fine_tuned", "Fine-tuned model", chance, MultiLabelEvaluation.uniform(3, 0.5), 1, null);
    ev.addBaselines(null, null);
    EvalResult result = ev.result("run", "fine_tuned", "0.5", null, null, Map.of());
    SystemResult tfidf = result.baselines().get("tfidf_logreg");
    assertNotNull(tfidf);
    assertEquals(1.0, tfidf.accuracy(), EXACT, "every label set exactly right");
    assertTrue(tfidf.setting().contains("cross-validation on the training data"), tfidf.setting());
    assertEquals(2, result.comparisons().size());
    assertTrue(result.verdict().contains("did not pay off"), result.verdict());
    assertArrayEquals(
        new double[] {0.5, 0.5, 0.5},
        result.multiLabel().systems().get("tfidf_logreg").labels().stream()
            .mapToDouble(MultiLabelEvaluation.LabelScores::threshold)
            .toArray());
  }
}
