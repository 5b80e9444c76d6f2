package dev.whet.eval;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Percentile bootstrap confidence intervals over examples. Resampling is seeded, so the same inputs
 * always give the same interval.
 *
 * <p>A metric is anything computed from a resample given as example indices (with repeats); see
 * {@link SampleMetric} for the usual ones.
 */
public final class Bootstrap {
  /** Default number of resamples. */
  public static final int DEFAULT_RESAMPLES = 1000;

  /** Default seed. */
  public static final long DEFAULT_SEED = 20261123L;

  private final int resamples;
  private final long seed;
  private final double level;

  /**
   * @param resamples how many resamples to draw
   * @param seed seed of the resampling
   * @param level coverage of the interval, e.g. 0.95
   */
  public Bootstrap(int resamples, long seed, double level) {
    if (resamples < 1 || !(level > 0 && level < 1)) {
      throw new IllegalArgumentException("need resamples >= 1 and 0 < level < 1");
    }
    this.resamples = resamples;
    this.seed = seed;
    this.level = level;
  }

  /** 1,000 resamples, fixed seed, 95% intervals. */
  public Bootstrap() {
    this(DEFAULT_RESAMPLES, DEFAULT_SEED, 0.95);
  }

  /** A metric evaluated on a resample of {@code n} examples, given as their indices. */
  @FunctionalInterface
  public interface SampleMetric {
    double compute(int[] indices);

    /** Accuracy of {@code pred} against {@code gold} on the resample. */
    static SampleMetric accuracy(int[] gold, int[] pred) {
      return idx -> {
        int right = 0;
        for (int i : idx) if (gold[i] == pred[i]) right++;
        return (double) right / idx.length;
      };
    }

    /** Macro F1 over {@code k} classes on the resample. */
    static SampleMetric f1Macro(int[] gold, int[] pred, int k) {
      return idx -> {
        int[] g = new int[idx.length];
        int[] p = new int[idx.length];
        for (int t = 0; t < idx.length; t++) {
          g[t] = gold[idx[t]];
          p[t] = pred[idx[t]];
        }
        return Metrics.f1Macro(g, p, k);
      };
    }
  }

  /** Interval for one metric over {@code n} examples. */
  public Interval interval(int n, SampleMetric metric) {
    double estimate = metric.compute(identity(n));
    double[] values = new double[resamples];
    SplittableRandom random = new SplittableRandom(seed);
    int[] idx = new int[n];
    for (int r = 0; r < resamples; r++) {
      draw(random, idx);
      values[r] = metric.compute(idx);
    }
    return percentiles(estimate, values);
  }

  /**
   * Paired interval for {@code a - b} where both systems are scored on the same resampled examples
   * in each round. Pairing removes the variation that comes from which examples were drawn, so it
   * is much tighter than comparing two separate intervals.
   */
  public Interval difference(int n, SampleMetric a, SampleMetric b) {
    int[] all = identity(n);
    double estimate = a.compute(all) - b.compute(all);
    double[] values = new double[resamples];
    SplittableRandom random = new SplittableRandom(seed);
    int[] idx = new int[n];
    for (int r = 0; r < resamples; r++) {
      draw(random, idx);
      values[r] = a.compute(idx) - b.compute(idx);
    }
    return percentiles(estimate, values);
  }

  /** True when A beats B: the paired interval of {@code a - b} lies wholly above zero. */
  public boolean isBetter(int n, SampleMetric a, SampleMetric b) {
    return difference(n, a, b).low() > 0;
  }

  private void draw(SplittableRandom random, int[] idx) {
    for (int i = 0; i < idx.length; i++) idx[i] = random.nextInt(idx.length);
  }

  private Interval percentiles(double estimate, double[] values) {
    Arrays.sort(values);
    double tail = (1 - level) / 2;
    return new Interval(estimate, quantile(values, tail), quantile(values, 1 - tail));
  }

  /** Linear interpolation between order statistics, numpy's default percentile method. */
  static double quantile(double[] sorted, double q) {
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(sorted.length - 1, lo + 1);
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
  }

  private static int[] identity(int n) {
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) idx[i] = i;
    return idx;
  }
}
