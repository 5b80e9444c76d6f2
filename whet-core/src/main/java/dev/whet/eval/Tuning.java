package dev.whet.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Function;

/**
 * Chooses a baseline's setting as a practitioner would: by macro-F1 (or another score) on held-out
 * rows — the validation file when there is one, else stratified k-fold cross-validation over the
 * training rows (scikit-learn's {@code GridSearchCV} with {@code StratifiedKFold(shuffle=True)}:
 * the mean over folds, the first of equal settings). The test set is never looked at.
 */
final class Tuning {
  private Tuning() {}

  /** Folds for cross-validation: five, or fewer when a class is that small. */
  static final int FOLDS = 5;

  /** Rows that fit a candidate and rows that score it, as indices into the pool of rows. */
  record Fold(int[] train, int[] eval) {}

  /**
   * How settings are scored: the folds over a pool of rows, and in words ("5-fold cross-validation
   * on the training data").
   */
  record Plan(List<Fold> folds, String how) {}

  /**
   * The outcome.
   *
   * @param index the chosen setting
   * @param scores mean macro-F1 of every setting
   */
  record Choice(int index, double[] scores, String how) {
    double score() {
      return scores[index];
    }

    /** "C=10, chosen by 5-fold cross-validation on the training data (macro-F1 0.861)". */
    String describe(String setting) {
      return String.format(Locale.ROOT, "%s, chosen by %s (macro-F1 %.3f)", setting, how, score());
    }
  }

  /**
   * Stratified folds over {@code labels}: each class's rows are shuffled with {@code seed} and
   * dealt round the folds. Fewer folds when the smallest class has fewer rows than {@link #FOLDS}
   * (at least two).
   */
  static Plan crossValidation(int[] labels, int classes, long seed) {
    int[] count = new int[classes];
    for (int y : labels) count[y]++;
    int smallest = Integer.MAX_VALUE;
    for (int c : count) if (c > 0) smallest = Math.min(smallest, c);
    int k = Math.max(2, Math.min(FOLDS, smallest));
    int[] fold = new int[labels.length];
    Random random = new Random(seed);
    int next = 0;
    for (int c = 0; c < classes; c++) {
      List<Integer> rows = new ArrayList<>();
      for (int i = 0; i < labels.length; i++) if (labels[i] == c) rows.add(i);
      java.util.Collections.shuffle(rows, random);
      for (int row : rows) fold[row] = next++ % k;
    }
    List<Fold> folds = new ArrayList<>();
    for (int f = 0; f < k; f++) {
      final int ff = f;
      int[] eval =
          java.util.stream.IntStream.range(0, labels.length).filter(i -> fold[i] == ff).toArray();
      int[] train =
          java.util.stream.IntStream.range(0, labels.length).filter(i -> fold[i] != ff).toArray();
      folds.add(new Fold(train, eval));
    }
    return new Plan(folds, k + "-fold cross-validation on the training data");
  }

  /** The training rows (the first {@code train} of the pool) fit; the validation rows score. */
  static Plan validation(int train, int validation) {
    int[] t = java.util.stream.IntStream.range(0, train).toArray();
    int[] v = java.util.stream.IntStream.range(train, train + validation).toArray();
    return new Plan(List.of(new Fold(t, v)), "the validation file");
  }

  /**
   * Scores every setting on every fold and picks the best mean macro-F1.
   *
   * @param poolLabels the label of every row the folds index
   * @param settings how many settings {@code predictAll} predicts with
   * @param predictAll a fold's predictions for its eval rows under every setting, in setting order
   */
  static Choice choose(
      Plan plan, int[] poolLabels, int classes, int settings, Function<Fold, int[][]> predictAll) {
    return chooseBy(
        plan,
        settings,
        fold -> {
          int[] gold = pick(poolLabels, fold.eval());
          int[][] predictions = predictAll.apply(fold);
          double[] scores = new double[settings];
          for (int s = 0; s < settings; s++) {
            scores[s] = Metrics.f1Macro(gold, predictions[s], classes);
          }
          return scores;
        });
  }

  /**
   * Picks the setting with the best mean score over the folds (the first of equal ones).
   *
   * @param scoreAll a fold's score (higher is better) under every setting, in setting order
   */
  static Choice chooseBy(Plan plan, int settings, Function<Fold, double[]> scoreAll) {
    double[] scores = new double[settings];
    for (Fold fold : plan.folds()) {
      double[] fs = scoreAll.apply(fold);
      for (int s = 0; s < settings; s++) scores[s] += fs[s] / plan.folds().size();
    }
    int best = 0;
    for (int s = 1; s < settings; s++) if (scores[s] > scores[best] + 1e-12) best = s;
    return new Choice(best, scores, plan.how());
  }

  /** The rows of {@code all} at {@code rows}. */
  static <T> List<T> pick(List<T> all, int[] rows) {
    List<T> out = new ArrayList<>(rows.length);
    for (int r : rows) out.add(all.get(r));
    return out;
  }

  static float[][] pick(float[][] all, int[] rows) {
    float[][] out = new float[rows.length][];
    for (int i = 0; i < rows.length; i++) out[i] = all[rows[i]];
    return out;
  }

  static float[][][] pick(float[][][] all, int[] rows) {
    float[][][] out = new float[rows.length][][];
    for (int i = 0; i < rows.length; i++) out[i] = all[rows[i]];
    return out;
  }

  static int[] pick(int[] all, int[] rows) {
    return Arrays.stream(rows).map(r -> all[r]).toArray();
  }

  static boolean[][] pick(boolean[][] all, int[] rows) {
    boolean[][] out = new boolean[rows.length][];
    for (int i = 0; i < rows.length; i++) out[i] = all[rows[i]];
    return out;
  }
}
