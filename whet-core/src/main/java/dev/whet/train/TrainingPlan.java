package dev.whet.train;

/**
 * A job as the training loop reads it: every {@code auto} resolved and every value typed, built
 * once from the resolved {@link JobConfig} ({@link JobConfig#plan()}), so nothing is parsed or
 * defaulted inside the loop. {@link JobConfig} stays what users write (strings, {@code auto}) and
 * what job.yaml records.
 *
 * @param method {@code full}, {@code freeze} or {@code lora}
 * @param epochs passes over the training data (fractions allowed)
 * @param maxSteps 0: until the epochs end
 * @param evalEvery evaluate every this many steps; 0: at the end of each epoch
 * @param bf16 whether the forward and backward run under bf16 autocast
 * @param overlapAllReduce with several ranks, whether gradients are summed during the backward pass
 */
public record TrainingPlan(
    String method,
    int freezeLayers,
    double layerLrDecay,
    double epochs,
    long maxSteps,
    int batchSize,
    int gradAccum,
    double lr,
    double weightDecay,
    double warmup,
    String schedule,
    double maxGradNorm,
    boolean bf16,
    long seed,
    String metric,
    long evalEvery,
    int earlyStoppingPatience,
    long saveEvery,
    int keepCheckpoints,
    boolean overlapAllReduce) {

  /** "bf16" or "fp32", as job.yaml and the events say it. */
  public String precision() {
    return bf16 ? "bf16" : "fp32";
  }

  /**
   * @throws IllegalStateException when an {@code auto} is left: resolve the job first
   */
  static TrainingPlan of(JobConfig j) {
    for (String v : new String[] {j.method, j.epochs, j.lr, j.metric, j.precision}) {
      if (v.equals("auto")) {
        throw new IllegalStateException("resolve the job before planning it: an 'auto' is left");
      }
    }
    return new TrainingPlan(
        j.method,
        j.freezeLayers,
        j.layerLrDecay,
        Double.parseDouble(j.epochs),
        j.maxSteps,
        j.batchSize,
        j.gradAccum,
        Double.parseDouble(j.lr),
        j.weightDecay,
        j.warmup,
        j.schedule,
        j.maxGradNorm,
        j.precision.equals("bf16"),
        j.seed,
        j.metric,
        j.evalEvery.equals("epoch") ? 0 : (long) Double.parseDouble(j.evalEvery),
        j.earlyStoppingPatience,
        j.saveEvery,
        j.keepCheckpoints,
        j.allreduce.equals("overlap"));
  }
}
