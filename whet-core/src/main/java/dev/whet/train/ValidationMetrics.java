package dev.whet.train;

import java.util.LinkedHashMap;
import java.util.Map;

/** The metrics that pick the best checkpoint during training: loss, accuracy, macro-F1. */
final class ValidationMetrics {
  private ValidationMetrics() {}

  /**
   * @param gold per example, its label indices
   * @param predicted per example, the predicted label indices
   */
  static Map<String, Double> compute(int[][] gold, int[][] predicted, int numLabels, double loss) {
    int exact = 0;
    long[] tp = new long[numLabels];
    long[] fp = new long[numLabels];
    long[] fn = new long[numLabels];
    for (int i = 0; i < gold.length; i++) {
      boolean[] g = hot(gold[i], numLabels);
      boolean[] p = hot(predicted[i], numLabels);
      boolean same = true;
      for (int c = 0; c < numLabels; c++) {
        same &= g[c] == p[c];
        if (g[c] && p[c]) {
          tp[c]++;
        } else if (p[c]) {
          fp[c]++;
        } else if (g[c]) {
          fn[c]++;
        }
      }
      exact += same ? 1 : 0;
    }
    double f1Sum = 0;
    for (int c = 0; c < numLabels; c++) {
      double denominator = 2.0 * tp[c] + fp[c] + fn[c];
      f1Sum += denominator == 0 ? 0 : 2.0 * tp[c] / denominator;
    }
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("loss", loss);
    m.put("accuracy", gold.length == 0 ? 0 : (double) exact / gold.length);
    m.put("f1_macro", f1Sum / numLabels);
    return m;
  }

  private static boolean[] hot(int[] labels, int n) {
    boolean[] h = new boolean[n];
    for (int l : labels) {
      h[l] = true;
    }
    return h;
  }

  /** Whether a higher value of {@code metric} is better. */
  static boolean higherIsBetter(String metric) {
    return !metric.equals("loss") && !metric.equals("perplexity");
  }
}
