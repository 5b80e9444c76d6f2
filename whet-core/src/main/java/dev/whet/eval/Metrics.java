package dev.whet.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Classification metrics with scikit-learn's definitions (checked against scikit-learn on the
 * fixtures under {@code src/test/resources/eval}).
 *
 * <p>Labels are indices {@code 0..k-1}. Where a ratio has a zero denominator (a class that is never
 * predicted has no precision) the value is 0, as with scikit-learn's {@code zero_division=0}; every
 * class in {@code 0..k-1} counts in the macro average even when it has no support, as with {@code
 * labels=range(k)}.
 */
public final class Metrics {
  private Metrics() {}

  /** Precision, recall, F1 and support (number of gold examples) of one class. */
  public record ClassScores(
      String label, double precision, double recall, double f1, int support) {}

  /** Precision, recall and F1 averaged over classes one way (macro, micro or weighted). */
  public record Averaged(double precision, double recall, double f1) {}

  /**
   * Everything computed for one system on one labelled set.
   *
   * @param rocAuc binary tasks with probabilities only, else NaN
   * @param averagePrecision PR-AUC as scikit-learn's {@code average_precision_score}; binary only
   * @param logLoss NaN without probabilities
   * @param ece expected calibration error (see {@link #expectedCalibrationError}); NaN without
   *     probabilities
   */
  public record Classification(
      int n,
      double accuracy,
      List<ClassScores> perClass,
      Averaged macro,
      Averaged micro,
      Averaged weighted,
      int[][] confusion,
      double rocAuc,
      double averagePrecision,
      double logLoss,
      double ece) {}

  /**
   * All single-label metrics at once.
   *
   * @param gold gold label index per example
   * @param pred predicted label index per example
   * @param probs probability per example and class (rows sum to 1), or null
   * @param labels class names; their count is the number of classes
   */
  public static Classification classification(
      int[] gold, int[] pred, double[][] probs, List<String> labels) {
    checkSameLength(gold.length, pred.length, "predictions");
    int k = labels.size();
    int[][] cm = confusionMatrix(gold, pred, k);
    List<ClassScores> perClass = perClass(cm, labels);
    double rocAuc = Double.NaN;
    double ap = Double.NaN;
    double logLoss = Double.NaN;
    double ece = Double.NaN;
    if (probs != null) {
      checkSameLength(gold.length, probs.length, "probability rows");
      logLoss = logLoss(gold, probs);
      ece = expectedCalibrationError(gold, probs, ECE_BINS);
      if (k == 2) {
        boolean[] positive = new boolean[gold.length];
        double[] score = new double[gold.length];
        for (int i = 0; i < gold.length; i++) {
          positive[i] = gold[i] == 1;
          score[i] = probs[i][1];
        }
        rocAuc = rocAuc(positive, score);
        ap = averagePrecision(positive, score);
      }
    }
    return new Classification(
        gold.length,
        accuracy(gold, pred),
        perClass,
        macro(perClass),
        micro(cm),
        weighted(perClass),
        cm,
        rocAuc,
        ap,
        logLoss,
        ece);
  }

  /** Fraction of examples whose prediction equals the gold label. */
  public static double accuracy(int[] gold, int[] pred) {
    checkSameLength(gold.length, pred.length, "predictions");
    int right = 0;
    for (int i = 0; i < gold.length; i++) if (gold[i] == pred[i]) right++;
    return gold.length == 0 ? 0 : (double) right / gold.length;
  }

  /** Rows are gold labels, columns predicted labels, as scikit-learn's confusion_matrix. */
  public static int[][] confusionMatrix(int[] gold, int[] pred, int k) {
    int[][] cm = new int[k][k];
    for (int i = 0; i < gold.length; i++) cm[gold[i]][pred[i]]++;
    return cm;
  }

  /** Per-class precision, recall, F1 and support from a confusion matrix. */
  public static List<ClassScores> perClass(int[][] cm, List<String> labels) {
    int k = cm.length;
    List<ClassScores> out = new ArrayList<>(k);
    for (int c = 0; c < k; c++) {
      int tp = cm[c][c];
      int support = 0;
      int predicted = 0;
      for (int j = 0; j < k; j++) {
        support += cm[c][j];
        predicted += cm[j][c];
      }
      double p = ratio(tp, predicted);
      double r = ratio(tp, support);
      out.add(new ClassScores(labels.get(c), p, r, f1(tp, predicted, support), support));
    }
    return out;
  }

  /** Unweighted mean over classes. */
  public static Averaged macro(List<ClassScores> perClass) {
    double p = 0, r = 0, f = 0;
    for (ClassScores s : perClass) {
      p += s.precision();
      r += s.recall();
      f += s.f1();
    }
    int k = perClass.size();
    return new Averaged(p / k, r / k, f / k);
  }

  /** Mean over classes weighted by support. */
  public static Averaged weighted(List<ClassScores> perClass) {
    double p = 0, r = 0, f = 0;
    long total = 0;
    for (ClassScores s : perClass) {
      p += s.precision() * s.support();
      r += s.recall() * s.support();
      f += s.f1() * s.support();
      total += s.support();
    }
    return total == 0 ? new Averaged(0, 0, 0) : new Averaged(p / total, r / total, f / total);
  }

  /** Counts pooled over classes; for single-label data all three equal the accuracy. */
  public static Averaged micro(int[][] cm) {
    long tp = 0, all = 0;
    for (int i = 0; i < cm.length; i++) {
      tp += cm[i][i];
      for (int j = 0; j < cm.length; j++) all += cm[i][j];
    }
    double v = ratio(tp, all);
    return new Averaged(v, v, v);
  }

  /** Macro-averaged F1 straight from labels (used inside the bootstrap). */
  public static double f1Macro(int[] gold, int[] pred, int k) {
    return macro(perClass(confusionMatrix(gold, pred, k), indexLabels(k))).f1();
  }

  /**
   * Area under the ROC curve, equal to scikit-learn's {@code roc_auc_score}: the probability that a
   * random positive scores above a random negative, ties counting one half (computed from average
   * ranks).
   */
  public static double rocAuc(boolean[] positive, double[] score) {
    checkSameLength(positive.length, score.length, "scores");
    double[] ranks = Ranks.average(score);
    long nPos = 0;
    double rankSum = 0;
    for (int i = 0; i < positive.length; i++) {
      if (positive[i]) {
        nPos++;
        rankSum += ranks[i];
      }
    }
    long nNeg = positive.length - nPos;
    if (nPos == 0 || nNeg == 0) return Double.NaN; // undefined with one class
    return (rankSum - nPos * (nPos + 1) / 2.0) / ((double) nPos * nNeg);
  }

  /**
   * Average precision as scikit-learn's {@code average_precision_score}: the sum over distinct
   * score thresholds (high to low) of precision times the recall gained there, without
   * interpolation. Tied scores form one threshold.
   */
  public static double averagePrecision(boolean[] positive, double[] score) {
    checkSameLength(positive.length, score.length, "scores");
    Integer[] order = new Integer[score.length];
    for (int i = 0; i < order.length; i++) order[i] = i;
    Arrays.sort(order, (a, b) -> Double.compare(score[b], score[a]));
    long nPos = 0;
    for (boolean p : positive) if (p) nPos++;
    if (nPos == 0) return Double.NaN;
    long tp = 0, fp = 0;
    double ap = 0, prevRecall = 0;
    for (int i = 0; i < order.length; i++) {
      if (positive[order[i]]) tp++;
      else fp++;
      boolean lastOfThreshold = i == order.length - 1 || score[order[i + 1]] != score[order[i]];
      if (lastOfThreshold) {
        double recall = (double) tp / nPos;
        ap += (recall - prevRecall) * ((double) tp / (tp + fp));
        prevRecall = recall;
      }
    }
    return ap;
  }

  /**
   * Mean negative log probability of the gold class, with probabilities clipped to [eps, 1 - eps]
   * (eps = the double machine epsilon) and rows renormalised, as scikit-learn's {@code log_loss}
   * with its default {@code eps="auto"} (1.2 and later).
   */
  public static double logLoss(int[] gold, double[][] probs) {
    double eps = Math.ulp(1.0);
    double sum = 0;
    for (int i = 0; i < gold.length; i++) {
      double rowSum = 0;
      for (double p : probs[i]) rowSum += clip(p, eps);
      sum -= Math.log(clip(probs[i][gold[i]], eps) / rowSum);
    }
    return sum / gold.length;
  }

  /** Number of equal-width confidence bins used for the expected calibration error. */
  public static final int ECE_BINS = 15;

  /**
   * Expected calibration error (scikit-learn has none, so the definition is stated here and
   * mirrored in the fixture script): confidence is the top probability of a row, the prediction its
   * arg-max (first on ties); bin b of {@code bins} holds confidences in (b/bins, (b+1)/bins] (index
   * {@code ceil(conf*bins)-1}, clamped to [0, bins-1]); ECE = sum over bins of |bin|/n *
   * |accuracy(bin) - mean confidence(bin)|.
   */
  public static double expectedCalibrationError(int[] gold, double[][] probs, int bins) {
    int[] count = new int[bins];
    double[] confSum = new double[bins];
    int[] right = new int[bins];
    for (int i = 0; i < gold.length; i++) {
      int top = argmax(probs[i]);
      double conf = probs[i][top];
      int b = (int) Math.ceil(conf * bins) - 1;
      b = Math.max(0, Math.min(bins - 1, b));
      count[b]++;
      confSum[b] += conf;
      if (top == gold[i]) right[b]++;
    }
    double ece = 0;
    for (int b = 0; b < bins; b++) {
      if (count[b] == 0) continue;
      ece +=
          (double) count[b]
              / gold.length
              * Math.abs((double) right[b] / count[b] - confSum[b] / count[b]);
    }
    return ece;
  }

  // ---- multi-label: one boolean per example and label ----

  /** Fraction of examples whose whole label set is right (scikit-learn's accuracy_score). */
  public static double subsetAccuracy(boolean[][] gold, boolean[][] pred) {
    int right = 0;
    for (int i = 0; i < gold.length; i++) if (Arrays.equals(gold[i], pred[i])) right++;
    return (double) right / gold.length;
  }

  /** Fraction of (example, label) cells that are wrong. */
  public static double hammingLoss(boolean[][] gold, boolean[][] pred) {
    long wrong = 0, cells = 0;
    for (int i = 0; i < gold.length; i++) {
      for (int j = 0; j < gold[i].length; j++) if (gold[i][j] != pred[i][j]) wrong++;
      cells += gold[i].length;
    }
    return (double) wrong / cells;
  }

  /** F1 over all (example, label) cells pooled. */
  public static double multiLabelMicroF1(boolean[][] gold, boolean[][] pred) {
    long tp = 0, predicted = 0, actual = 0;
    for (int i = 0; i < gold.length; i++) {
      for (int j = 0; j < gold[i].length; j++) {
        if (gold[i][j] && pred[i][j]) tp++;
        if (pred[i][j]) predicted++;
        if (gold[i][j]) actual++;
      }
    }
    return f1(tp, predicted, actual);
  }

  /** Mean over labels of each label's F1 (0 for a label never gold nor predicted). */
  public static double multiLabelMacroF1(boolean[][] gold, boolean[][] pred) {
    int labels = gold[0].length;
    double sum = 0;
    for (int j = 0; j < labels; j++) {
      long tp = 0, predicted = 0, actual = 0;
      for (int i = 0; i < gold.length; i++) {
        if (gold[i][j] && pred[i][j]) tp++;
        if (pred[i][j]) predicted++;
        if (gold[i][j]) actual++;
      }
      sum += f1(tp, predicted, actual);
    }
    return sum / labels;
  }

  /** Index of the largest value, the first on ties (as numpy's argmax). */
  public static int argmax(double[] row) {
    int best = 0;
    for (int j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
    return best;
  }

  static List<String> indexLabels(int k) {
    List<String> names = new ArrayList<>(k);
    for (int i = 0; i < k; i++) names.add(Integer.toString(i));
    return names;
  }

  /** F1 = 2tp / (2tp + fp + fn) = 2tp / (predicted + actual); 0 when both are empty. */
  static double f1(long tp, long predicted, long actual) {
    return ratio(2 * tp, predicted + actual);
  }

  private static double ratio(long num, long den) {
    return den == 0 ? 0 : (double) num / den;
  }

  private static double clip(double p, double eps) {
    return Math.max(eps, Math.min(1 - eps, p));
  }

  private static void checkSameLength(int expected, int actual, String what) {
    if (expected != actual) {
      throw new IllegalArgumentException(
          "got " + actual + " " + what + " for " + expected + " gold labels");
    }
  }
}
