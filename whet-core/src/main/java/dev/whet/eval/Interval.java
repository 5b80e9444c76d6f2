package dev.whet.eval;

/**
 * A point estimate with a bootstrap confidence interval.
 *
 * @param estimate the metric on the full set
 * @param low lower bound (2.5th percentile of the resampled values for a 95% interval)
 * @param high upper bound
 */
public record Interval(double estimate, double low, double high) {
  /** True when the whole interval lies above zero or below it. */
  public boolean excludesZero() {
    return low > 0 || high < 0;
  }

  /** True when {@code value} lies inside the interval, bounds included. */
  public boolean contains(double value) {
    return value >= low && value <= high;
  }
}
