package dev.whet.server;

import dev.whet.train.JobConfig;

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
 */
public record JobLimits(
    double maxEpochs,
    long maxSteps,
    int maxBatchSize,
    int maxLength,
    int maxLoraRank,
    int maxKeepCheckpoints) {

  /** Generous for the models a CPU server trains; an operator tightens or widens them. */
  public static final JobLimits DEFAULTS = new JobLimits(100, 1_000_000, 1024, 8192, 256, 20);

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
