package dev.whet.train;

import java.nio.file.Path;
import java.util.Map;

/**
 * Side effects of training (progress bar, metrics file, events, dashboards) hang off the loop as
 * listeners, so the loop itself stays linear. Every method has a no-op default.
 */
public interface TrainerListener {
  /** Training is about to start (or resume) at {@code step} of {@code totalSteps}. */
  default void onStart(Start start) {}

  /** After each optimizer step. */
  default void onStep(Step step) {}

  /** After each evaluation on the validation set. */
  default void onEval(long step, Map<String, Double> metrics) {}

  /** A human-readable event: checkpoint saved, early stop, resume... */
  default void onEvent(String kind, String message) {}

  default void onCheckpoint(long step, Path dir) {}

  default void onEnd(TrainResult result) {}

  record Start(
      long step,
      long totalSteps,
      int epochs,
      long trainableParams,
      long totalParams,
      String precision,
      int threads,
      boolean resumed) {}

  /**
   * @param tokens real (non-padding) tokens in this optimizer step
   * @param seconds wall time of this optimizer step
   * @param metrics the task's own statistics of this step ({@link TrainTask#stepMetrics}), often
   *     none
   */
  record Step(
      long step,
      long totalSteps,
      double epoch,
      double loss,
      double lr,
      double gradNorm,
      long tokens,
      double seconds,
      Map<String, Double> metrics) {}
}
