package dev.whet.train;

import dev.whet.WhetException;
import dev.whet.model.EncoderConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What a training job needs in memory before it starts: weights, gradients and AdamW's two moments
 * for trainable parameters, and activations kept for the backward pass of one micro-batch.
 */
public record MemoryEstimate(long weights, long gradients, long optimizer, long activations) {

  public long total() {
    return weights + gradients + optimizer + activations;
  }

  /**
   * @param seqLen the longest sequence a batch can have (max_length)
   */
  public static MemoryEstimate of(
      EncoderConfig c,
      long totalParams,
      long trainableParams,
      int batch,
      int seqLen,
      boolean bf16) {
    return of(
        c.layers(),
        c.hiddenSize(),
        c.intermediateSize(),
        c.heads(),
        totalParams,
        trainableParams,
        batch,
        seqLen,
        bf16);
  }

  /** The same for any transformer of these sizes (encoder or decoder). */
  public static MemoryEstimate of(
      int layers,
      int hidden,
      int intermediate,
      int heads,
      long totalParams,
      long trainableParams,
      int batch,
      int seqLen,
      boolean bf16) {
    long tokens = (long) batch * seqLen;
    // Per layer and token, the backward pass keeps roughly: the layer input, q/k/v, the attention
    // output and its projection, two norms' inputs, the feed-forward input and activation
    // (about 11 hidden-sized and 2 intermediate-sized vectors), plus heads x T attention weights.
    long perToken = 11L * hidden + 2L * intermediate + (long) heads * seqLen;
    long activationBytes = (long) layers * tokens * perToken * (bf16 ? 3 : 4);
    return new MemoryEstimate(
        4 * totalParams, 4 * trainableParams, 8 * trainableParams, activationBytes);
  }

  /** The machine's memory: MemTotal from /proc/meminfo (or the JVM's view). */
  public static long physical() {
    return meminfo("MemTotal:");
  }

  /** Bytes the machine can still give: MemAvailable from /proc/meminfo (or the JVM's view). */
  public static long available() {
    return meminfo("MemAvailable:");
  }

  private static long meminfo(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // fall through
    }
    return Runtime.getRuntime().maxMemory();
  }

  /** Refuses, with what to change, a job that would not fit in {@code availableBytes}. */
  public void check(long availableBytes, JobConfig job) {
    if (total() <= 0.9 * availableBytes) {
      return;
    }
    throw new WhetException(
        String.format(
            Locale.ROOT,
            "this job needs about %s (weights %s, gradients %s, optimizer %s, activations %s for"
                + " batch %d x %d tokens) but only %s is available. Try a smaller --batch-size with"
                + " grad_accum to keep the effective batch (e.g. --batch-size %d --set grad_accum=%d),"
                + " a shorter --max-length, method lora, or method freeze with freeze_layers.",
            gib(total()),
            gib(weights),
            gib(gradients),
            gib(optimizer),
            gib(activations),
            job.batchSize,
            job.maxLength,
            gib(availableBytes),
            Math.max(1, job.batchSize / 4),
            job.gradAccum * 4));
  }

  public static String gib(long bytes) {
    return String.format(Locale.ROOT, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
  }
}
