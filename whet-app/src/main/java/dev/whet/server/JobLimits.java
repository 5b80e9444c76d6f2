package dev.whet.server;

import dev.whet.train.JobConfig;
import dev.whet.train.JobEstimate;
import dev.whet.train.MemoryEstimate;

/**
 * What one job may ask of a shared server, set by the operator ({@code whet serve --max-…}) and
 * checked when the job is created: a 400 names the field and the limit, so an absurd request (a
 * billion epochs, a million-row batch, a LoRA rank of a million) never reaches the queue.
 *
 * @param maxEpochs {@code hyperparameters.n_epochs}
 * @param maxSteps {@code whet.max_steps} (0, "until the epochs end", is always allowed)
 * @param maxBatchSize {@code hyperparameters.batch_size}
 * @param maxLength {@code whet.max_length}, tokens per example
 * @param maxLoraRank {@code whet.lora.rank}
 * @param maxKeepCheckpoints {@code whet.keep_checkpoints}
 * @param maxHours the estimated training time of one job on this server ({@link JobEstimate})
 * @param maxMemoryBytes the estimated peak memory of one job's training step
 */
public record JobLimits(
    double maxEpochs,
    long maxSteps,
    int maxBatchSize,
    int maxLength,
    int maxLoraRank,
    int maxKeepCheckpoints,
    double maxHours,
    long maxMemoryBytes) {

  /**
   * Generous for the models a CPU server trains (a day per job, the machine's memory); an operator
   * tightens or widens them.
   */
  public static final JobLimits DEFAULTS =
      new JobLimits(100, 1_000_000, 1024, 8192, 256, 20, 24, MemoryEstimate.physical());

  /**
   * Refuses a resolved request past any limit, naming the parameter as the client wrote it.
   *
   * @param trainThreads the operator's {@code --train-threads}: {@code whet.threads} may not ask
   *     for more
   */
  void check(JobConfig c, int trainThreads) {
    if (!c.epochs.equals("auto")) {
      within(Double.parseDouble(c.epochs), maxEpochs, "hyperparameters.n_epochs", "--max-epochs");
    }
    within(c.maxSteps, maxSteps, "whet.max_steps", "--max-steps");
    within(c.batchSize, maxBatchSize, "hyperparameters.batch_size", "--max-batch-size");
    within(c.maxLength, maxLength, "whet.max_length", "--max-length");
    within(c.lora.rank, maxLoraRank, "whet.lora.rank", "--max-lora-rank");
    within(
        c.keepCheckpoints, maxKeepCheckpoints, "whet.keep_checkpoints", "--max-keep-checkpoints");
    within(c.threads, trainThreads, "whet.threads", "--train-threads");
  }

  /**
   * Refuses a job whose estimated time or memory on this server is past the limits, with the
   * estimate and what would make it smaller.
   */
  void check(JobEstimate e) {
    if (e.seconds() > maxHours * 3600) {
      throw ApiError.invalid(
          "This job would train for "
              + e.describe()
              + " on this server, which allows "
              + JobEstimate.duration(maxHours * 3600)
              + " per job (the operator sets it with `whet serve --max-job-hours`). Fewer epochs,"
              + " whet.max_steps, a shorter whet.max_length or whet.method lora make it shorter.",
          "hyperparameters.n_epochs",
          "limit_exceeded");
    }
    if (e.memory().total() > maxMemoryBytes) {
      throw ApiError.invalid(
          "This job would need "
              + e.describe()
              + " on this server, which allows "
              + MemoryEstimate.gib(maxMemoryBytes)
              + " per job (the operator sets it with `whet serve --max-job-memory`). A smaller"
              + " batch_size with whet.grad_accum, a shorter whet.max_length or whet.method lora"
              + " need less.",
          "hyperparameters.batch_size",
          "limit_exceeded");
    }
  }

  private static void within(double value, double limit, String param, String flag) {
    if (value > limit) {
      throw ApiError.invalid(
          "'"
              + param
              + "' is "
              + fmt(value)
              + "; this server allows at most "
              + fmt(limit)
              + " (the operator sets it with `whet serve "
              + flag
              + "`).",
          param,
          "limit_exceeded");
    }
  }

  private static String fmt(double x) {
    return x == Math.rint(x) && Math.abs(x) < 1e15 ? Long.toString((long) x) : Double.toString(x);
  }
}
