package dev.whet.train;

import dev.whet.WhetException;
import java.util.Locale;

/**
 * Learning-rate multiplier as a pure function of the optimizer step (nanoGPT's {@code get_lr}):
 * linear warm-up from 0, then linear or cosine decay to 0, or constant.
 */
public enum Schedule {
  LINEAR,
  COSINE,
  CONSTANT;

  public static Schedule parse(String name) {
    try {
      return valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new WhetException("schedule '" + name + "' is not one of linear, cosine, constant");
    }
  }

  /**
   * @param step optimizer steps taken so far (0 for the first update)
   * @return the factor to multiply the base learning rate by, in [0, 1]
   */
  public double factor(long step, long warmupSteps, long totalSteps) {
    if (step < warmupSteps) {
      return (double) (step + 1) / (warmupSteps + 1);
    }
    if (this == CONSTANT) {
      return 1.0;
    }
    double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
    progress = Math.min(1.0, progress);
    return this == LINEAR ? 1.0 - progress : 0.5 * (1.0 + Math.cos(Math.PI * progress));
  }
}
