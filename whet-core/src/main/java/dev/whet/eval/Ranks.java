package dev.whet.eval;

import java.util.Arrays;

/** Ranking helpers shared by ROC-AUC and Spearman correlation. */
final class Ranks {
  private Ranks() {}

  /**
   * 1-based ranks with ties given the mean of the ranks they span (scipy's {@code
   * rankdata(method="average")}).
   */
  static double[] average(double[] values) {
    int n = values.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) order[i] = i;
    Arrays.sort(order, (a, b) -> Double.compare(values[a], values[b]));
    double[] ranks = new double[n];
    int i = 0;
    while (i < n) {
      int j = i;
      while (j + 1 < n && values[order[j + 1]] == values[order[i]]) j++;
      double rank = (i + j) / 2.0 + 1;
      for (int t = i; t <= j; t++) ranks[order[t]] = rank;
      i = j + 1;
    }
    return ranks;
  }
}
