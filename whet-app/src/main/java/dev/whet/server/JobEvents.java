package dev.whet.server;

import dev.whet.train.TrainerListener;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The training listener of a service job: turns the trainer's steps, evaluations and events into
 * the job's {@code fine_tuning.job.event}s (metrics at most every {@link #METRICS_EVERY_MS} ms,
 * plus the first and last step), keeps {@code estimated_finish} current, and stops training at the
 * next step once the job was cancelled.
 */
final class JobEvents implements TrainerListener {
  static final long METRICS_EVERY_MS = 500;
  private static final long CANCEL_CHECK_MS = 200;

  /** Thrown from a listener to end training: the job was cancelled. */
  static final class Cancelled extends RuntimeException {
    Cancelled() {
      super("cancelled", null, false, false);
    }
  }

  /**
   * Thrown from a listener to end training: another server holds the job's lease now (this one was
   * paused or cut off past it) and is running the job; this one must write nothing more.
   */
  static final class LeaseLost extends RuntimeException {
    LeaseLost() {
      super("lease lost", null, false, false);
    }
  }

  /** Thrown from a listener to end training: the server is shutting down. */
  static final class Stopped extends RuntimeException {
    Stopped() {
      super("stopped", null, false, false);
    }
  }

  private final Store store;
  private final java.util.function.BooleanSupplier stopping;
  private final String jobId;
  private final String owner;
  private final java.util.function.UnaryOperator<String> forUsers;
  private long lastMetrics;
  private long lastCancelCheck;
  private long lastEstimate;
  private long startStep;
  private long startNanos;
  private long step;

  /**
   * @param forUsers rewrites a message for the job's owner (server paths become file and job ids)
   */
  JobEvents(
      Store store,
      String jobId,
      String owner,
      java.util.function.BooleanSupplier stopping,
      java.util.function.UnaryOperator<String> forUsers) {
    this.store = store;
    this.stopping = stopping;
    this.jobId = jobId;
    this.owner = owner;
    this.forUsers = forUsers;
  }

  /** Writes an event of this job, fenced by its lease; training ends if the lease is gone. */
  private void add(String level, String type, String message, String data) {
    if (!store.addJobEvent(jobId, owner, level, type, message, data)) {
      throw new LeaseLost();
    }
  }

  /** The last optimizer step reported. */
  long step() {
    return step;
  }

  void message(String level, String message) {
    add(level, "message", forUsers.apply(message), null);
  }

  @Override
  public void onStart(Start s) {
    startStep = s.step();
    step = s.step();
    startNanos = System.nanoTime();
    checkCancelled(true);
  }

  @Override
  public void onStep(Step s) {
    step = s.step();
    long now = System.currentTimeMillis();
    if (s.step() == startStep + 1
        || s.step() == s.totalSteps()
        || now - lastMetrics >= METRICS_EVERY_MS) {
      lastMetrics = now;
      Map<String, Object> data = new LinkedHashMap<>();
      data.put("step", s.step());
      data.put("total_steps", s.totalSteps());
      data.put("epoch", Math.round(s.epoch() * 1000) / 1000.0);
      data.put("train_loss", s.loss());
      data.put("learning_rate", s.lr());
      data.put("tokens_per_second", Math.round(s.tokens() / Math.max(1e-9, s.seconds())));
      s.metrics().forEach((k, v) -> data.put("train_" + k, v));
      add(
          "info",
          "metrics",
          String.format(
              java.util.Locale.ROOT,
              "Step %d/%d: training loss=%.4f",
              s.step(),
              s.totalSteps(),
              s.loss()),
          Http.text(data));
    }
    if (now - lastEstimate >= 2000 && s.step() > startStep) {
      lastEstimate = now;
      double perStep = (System.nanoTime() - startNanos) / 1e9 / (s.step() - startStep);
      if (!store.setEstimatedFinish(
          jobId, owner, Store.now() + Math.round(perStep * (s.totalSteps() - s.step())))) {
        throw new LeaseLost();
      }
    }
    checkCancelled(false);
  }

  @Override
  public void onEval(long step, Map<String, Double> metrics) {
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("step", step);
    metrics.forEach((k, v) -> data.put("valid_" + k, v));
    StringBuilder m = new StringBuilder("Step " + step + ": validation");
    metrics.forEach((k, v) -> m.append(String.format(java.util.Locale.ROOT, " %s=%.4f", k, v)));
    add("info", "metrics", m.toString(), Http.text(data));
    checkCancelled(true);
  }

  @Override
  public void onEvent(String kind, String message) {
    String level =
        switch (kind) {
          case "diverged" -> "error";
          case "warning" -> "warn";
          default -> "info";
        };
    // The kind ("evaluating", "precision"…) travels as data: the dashboard shows stages by it.
    add(level, "message", forUsers.apply(message), Http.text(Map.of("kind", kind)));
    checkCancelled(true);
  }

  private void checkCancelled(boolean now) {
    if (stopping.getAsBoolean()) {
      throw new Stopped();
    }
    long t = System.currentTimeMillis();
    if (!now && t - lastCancelCheck < CANCEL_CHECK_MS) {
      return;
    }
    lastCancelCheck = t;
    Store.Lease lease = store.lease(jobId);
    if (lease == null) {
      throw new Cancelled(); // deleted
    }
    if (!owner.equals(lease.owner())) {
      throw new LeaseLost(); // another server took it over (and may have finished it)
    }
    if (!lease.status().equals("running")) {
      throw new Cancelled();
    }
  }
}
