package dev.whet.bench;

import dev.whet.engine.Engine;
import dev.whet.infer.GenerationOptions;
import dev.whet.infer.Generator;
import dev.whet.io.Json;
import dev.whet.model.LlamaConfig;
import dev.whet.model.LlamaModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.global.torch;

/**
 * Generation speed with the KV cache: a prompt is prefilled in one pass, then tokens are decoded
 * one at a time (greedy), on a randomly initialised decoder (weights do not change the cost).
 */
public final class GenerateBench {
  private GenerateBench() {}

  /**
   * @param prefillMs median time to run the prompt and produce the first token
   * @param decodeTokensPerSecond new tokens per second after the first, median over runs
   */
  public record Result(
      String shape,
      long parameters,
      int promptTokens,
      int newTokens,
      int runs,
      double prefillMs,
      double prefillTokensPerSecond,
      double decodeTokensPerSecond,
      double msPerToken,
      int threads) {}

  /** SmolLM2-135M's config.json (shipped with Whet for this benchmark). */
  public static LlamaConfig smolLm2Shape() {
    try (InputStream in = GenerateBench.class.getResourceAsStream("smollm2-135m-config.json")) {
      return LlamaConfig.of(
          Json.MAPPER.readTree(in), Path.of("dev/whet/bench/smollm2-135m-config.json"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static Result run(
      LlamaConfig config, String shape, int promptTokens, int newTokens, int runs) {
    Engine.init();
    torch.manual_seed(0);
    LlamaModel model = LlamaModel.of(config, null);
    try {
      long params =
          dev.whet.model.Weights.parameters(model).values().stream()
              .mapToLong(t -> t.numel())
              .sum();
      long[] prompt = new long[promptTokens];
      java.util.SplittableRandom r = new java.util.SplittableRandom(0);
      for (int i = 0; i < prompt.length; i++) {
        prompt[i] = r.nextInt(config.vocabSize());
      }
      // No EOS: every run generates exactly newTokens.
      Generator g = new Generator(model, null, List.of());
      GenerationOptions one = GenerationOptions.greedy(1);
      GenerationOptions all = GenerationOptions.greedy(newTokens);
      g.generateIds(prompt, all, null); // warm-up
      double[] prefill = new double[runs];
      double[] decode = new double[runs];
      for (int i = 0; i < runs; i++) {
        long t0 = System.nanoTime();
        g.generateIds(prompt, one, null);
        long t1 = System.nanoTime();
        g.generateIds(prompt, all, null);
        long t2 = System.nanoTime();
        prefill[i] = (t1 - t0) / 1e6;
        // The full run minus its prefill: newTokens - 1 incremental steps.
        decode[i] = ((t2 - t1) - (t1 - t0)) / 1e6;
      }
      double prefillMs = median(prefill);
      double decodeMs = median(decode);
      double perToken = decodeMs / (newTokens - 1);
      return new Result(
          shape,
          params,
          promptTokens,
          newTokens,
          runs,
          prefillMs,
          promptTokens / (prefillMs / 1000),
          1000 / perToken,
          perToken,
          torch.get_num_threads());
    } finally {
      model.close(); // its weights, now (Block.owning)
    }
  }

  private static double median(double[] x) {
    double[] s = x.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
