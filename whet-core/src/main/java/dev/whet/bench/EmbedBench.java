package dev.whet.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Embedding speed: single-text latency (batch 1) and batched throughput (batch 32) on inputs of a
 * fixed token count. Takes the system under test as a function, so Whet and ONNX Runtime are timed
 * by the same code.
 */
public final class EmbedBench {
  private EmbedBench() {}

  /**
   * @param p50Ms median single-text latency
   * @param p99Ms 99th percentile single-text latency
   * @param sentencesPerSecond at batch 32
   */
  public record Result(
      String system,
      int tokens,
      double p50Ms,
      double p99Ms,
      double sentencesPerSecond,
      double tokensPerSecond) {}

  /**
   * @param embed embeds a batch of token-id rows of equal length
   * @param rows example inputs, each {@code tokens} ids long
   */
  public static Result run(
      String system, Consumer<long[][]> embed, long[][] rows, int singleRuns, int batchRuns) {
    int tokens = rows[0].length;
    for (int i = 0; i < 10; i++) {
      embed.accept(new long[][] {rows[i % rows.length]});
    }
    double[] latencies = new double[singleRuns];
    for (int i = 0; i < singleRuns; i++) {
      long t0 = System.nanoTime();
      embed.accept(new long[][] {rows[i % rows.length]});
      latencies[i] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(latencies);
    long[][] batch = new long[32][];
    for (int i = 0; i < 32; i++) {
      batch[i] = rows[i % rows.length];
    }
    embed.accept(batch);
    long t0 = System.nanoTime();
    for (int i = 0; i < batchRuns; i++) {
      embed.accept(batch);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    double sps = 32.0 * batchRuns / seconds;
    return new Result(
        system,
        tokens,
        latencies[singleRuns / 2],
        latencies[Math.min(singleRuns - 1, (int) Math.ceil(singleRuns * 0.99) - 1)],
        sps,
        sps * tokens);
  }

  /** Inputs of exactly {@code tokens} ids: varied English text, truncated, wrapped in CLS/SEP. */
  public static long[][] inputs(dev.whet.io.Tokenizer tok, int tokens, int count) {
    String text =
        "Whet fine-tunes pretrained models on a company's own examples, measures whether the result"
            + " beats the base model and cheaper alternatives, and serves it over an API that existing"
            + " clients already speak. Customers ask about cards, transfers, refunds and fees. ";
    List<long[]> rows = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      long[] ids = tok.encode((i + " ") + text.repeat(4));
      long[] row = Arrays.copyOf(ids, tokens);
      row[tokens - 1] = ids[ids.length - 1]; // keep the closing special token
      rows.add(row);
    }
    return rows.toArray(long[][]::new);
  }
}
