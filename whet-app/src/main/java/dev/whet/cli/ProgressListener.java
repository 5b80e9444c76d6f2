package dev.whet.cli;

import dev.whet.train.TrainResult;
import dev.whet.train.TrainerListener;
import java.util.Locale;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The training progress bar on standard error: step/total, loss, learning rate, tokens/s and ETA;
 * validation results printed as they happen.
 */
final class ProgressListener implements TrainerListener {
  private ProgressBar bar;
  private double smoothedLoss = Double.NaN;
  private double tokensPerSecond = Double.NaN;

  @Override
  public void onStart(Start s) {
    System.err.printf(
        Locale.ROOT,
        "training %,d of %,d parameters (%.2f%%), %s on %d threads, %d steps%s%n",
        s.trainableParams(),
        s.totalParams(),
        100.0 * s.trainableParams() / s.totalParams(),
        s.precision(),
        s.threads(),
        s.totalSteps(),
        s.resumed() ? ", resuming at step " + s.step() : "");
    bar =
        new ProgressBarBuilder()
            .setTaskName("train")
            .setInitialMax(s.totalSteps())
            .setStyle(ProgressBarStyle.ASCII)
            // A fixed width: without a terminal (CI logs, pipes) the library cannot measure one.
            .setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err, 110))
            .setUpdateIntervalMillis(500)
            .showSpeed()
            .build();
    bar.stepTo(s.step());
  }

  @Override
  public void onStep(Step s) {
    // Exponential smoothing: a single noisy batch should not make the bar jump.
    smoothedLoss = Double.isNaN(smoothedLoss) ? s.loss() : 0.9 * smoothedLoss + 0.1 * s.loss();
    double rate = s.tokens() / Math.max(1e-9, s.seconds());
    tokensPerSecond = Double.isNaN(tokensPerSecond) ? rate : 0.9 * tokensPerSecond + 0.1 * rate;
    bar.stepTo(s.step());
    Double rewardAccuracy = s.metrics().get("reward_accuracy"); // DPO's, worth watching
    bar.setExtraMessage(
        String.format(
                Locale.ROOT,
                " epoch %.2f loss %.4f lr %.2e %,.0f tok/s",
                s.epoch(),
                smoothedLoss,
                s.lr(),
                tokensPerSecond)
            + (rewardAccuracy == null
                ? ""
                : String.format(Locale.ROOT, " reward acc %.2f", rewardAccuracy)));
  }

  @Override
  public void onEval(long step, Map<String, Double> metrics) {
    StringBuilder line = new StringBuilder("\nstep " + step + " validation:");
    metrics.forEach((k, v) -> line.append(String.format(Locale.ROOT, "  %s %.4f", k, v)));
    System.err.println(line);
  }

  @Override
  public void onEvent(String kind, String message) {
    // Start and checkpoints are already visible in the bar; the rest deserve a line.
    if (!kind.equals("checkpoint") && !kind.equals("started")) {
      System.err.println("\n" + kind + ": " + message);
    }
  }

  @Override
  public void onEnd(TrainResult r) {
    if (bar != null) {
      bar.close();
    }
  }
}
