package dev.whet.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.WhetException;
import dev.whet.WhetHome;
import dev.whet.engine.Engine;
import dev.whet.io.Atomic;
import dev.whet.io.Json;
import dev.whet.io.Sha256;
import dev.whet.model.BertModel;
import dev.whet.model.EncoderConfig;
import dev.whet.model.LlamaConfig;
import dev.whet.model.LlamaModel;
import dev.whet.model.Lora;
import dev.whet.model.Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * What {@code precision: auto} resolves to on this machine for one model shape, chosen by
 * measurement rather than by a CPU flag alone: a native-bf16 flag says bf16 matrix multiplies are
 * fast, not that the whole step is (libtorch 2.10's fused bf16 attention once made the default path
 * the slowest one on such a CPU). The forward and backward of one transformer layer of the job's
 * shape are timed in fp32 and under bf16 autocast, and bf16 is chosen only when clearly faster. The
 * result is cached per CPU, thread count and shape under {@code WHET_HOME/calibration/}, so the
 * measurement (well under a second for the default model) runs once per machine.
 *
 * <p>Without native bf16 (no {@code avx512_bf16} or {@code amx_bf16}) nothing is measured: emulated
 * bf16 is about a hundred times slower, and timing it would take longer than it tells.
 *
 * @param precision {@code bf16} or {@code fp32}
 * @param fp32Ms the timed work (one layer's training step, or its inference) in fp32; NaN when not
 *     measured
 * @param bf16Ms the same in bf16; NaN when not measured
 * @param reason one sentence a person reads: why this precision
 */
public record PrecisionChoice(String precision, double fp32Ms, double bf16Ms, String reason) {
  /** bf16 must take at most this share of fp32's time: of two equal choices fp32 is exact. */
  static final double BF16_MAX_SHARE = 0.9;

  /** Bump when the model code changes what the measurement means, so old caches are not read. */
  private static final int VERSION = 1;

  /** Tokens in the calibration batch: large enough for the GEMMs to run as in training. */
  private static final int ROWS = 4;

  private static final int LENGTH = 128;

  private static final String TRAINING_STEP = "one layer's forward + backward";

  /** Times one layer's forward + backward ({@code bf16}: under autocast), in milliseconds. */
  @FunctionalInterface
  interface LayerTimer {
    double ms(boolean bf16);
  }

  /**
   * The choice for a job (resolved but for its precision) on the base model in {@code baseDir}, at
   * the job's thread count.
   */
  public static PrecisionChoice forJob(JobConfig job, Path baseDir) {
    Path config = baseDir.resolve("config.json");
    if (job.trainsDecoder()) {
      return forDecoder(LlamaConfig.read(config), job.adapters(), job.threadCount());
    }
    EncoderConfig c = EncoderConfig.read(config).withDropout(job.dropout, job.attentionDropout);
    return forEncoder(c, job.adapters(), job.threadCount());
  }

  /** The choice for a BERT-family encoder of this shape, with the job's adapters if any. */
  public static PrecisionChoice forEncoder(EncoderConfig c, Lora lora, int threads) {
    String shape =
        String.format(
            Locale.ROOT,
            "%s h%d a%d f%d dropout %s/%s lora %s",
            c.modelType(),
            c.hiddenSize(),
            c.heads(),
            c.intermediateSize(),
            c.hiddenDropout(),
            c.attentionDropout(),
            adapters(lora));
    return onThisMachine(
        shape,
        TRAINING_STEP,
        threads,
        bf16 -> {
          try (BertModel m = BertModel.of(c.withLayers(1), lora)) {
            trainOnlyTheLayer(m, lora);
            Tensor ids = torch.randint(1, c.vocabSize(), new long[] {ROWS, LENGTH});
            Tensor mask = torch.ones(new long[] {ROWS, LENGTH}).to(torch.ScalarType.Long);
            return medianMs(1, 3, () -> step(bf16, () -> m.forward(ids, mask, null)));
          }
        });
  }

  /** The choice for a Llama-family decoder of this shape, with the job's adapters if any. */
  public static PrecisionChoice forDecoder(LlamaConfig c, Lora lora, int threads) {
    String shape =
        String.format(
            Locale.ROOT,
            "%s h%d a%d kv%d d%d f%d lora %s",
            c.modelType(),
            c.hiddenSize(),
            c.heads(),
            c.kvHeads(),
            c.headDim(),
            c.intermediateSize(),
            adapters(lora));
    return onThisMachine(
        shape,
        TRAINING_STEP,
        threads,
        bf16 -> {
          try (LlamaModel m = LlamaModel.of(c.withLayers(1), lora)) {
            trainOnlyTheLayer(m, lora);
            if (bf16 && lora != null) {
              Weights.storeFrozenIn(m, torch.ScalarType.BFloat16); // as SftTask.freeze does
            }
            Tensor ids = torch.randint(0, c.vocabSize(), new long[] {ROWS, LENGTH});
            return medianMs(1, 3, () -> step(bf16, () -> m.hidden(ids, null, null, null)));
          }
        });
  }

  /**
   * The precision to serve a BERT-family encoder in: {@code fp32}, {@code bf16}, or for {@code
   * auto} bf16 where one layer's inference on a 64-token text measured clearly faster in it (the
   * whole model's weights are converted, so the timing converts the layer's).
   *
   * @throws WhetException when {@code precision} is not auto, fp32 or bf16
   */
  public static String forInference(String precision, Path modelDir) {
    switch (precision) {
      case "fp32", "bf16" -> {
        return precision;
      }
      case "auto" -> {
        EncoderConfig c = EncoderConfig.read(modelDir.resolve("config.json"));
        String shape =
            String.format(
                Locale.ROOT,
                "inference %s h%d a%d f%d",
                c.modelType(),
                c.hiddenSize(),
                c.heads(),
                c.intermediateSize());
        return onThisMachine(
                shape,
                "one layer's inference on a 64-token text",
                Engine.threads(),
                bf16 -> {
                  try (BertModel m = BertModel.of(c.withLayers(1), null);
                      InferenceMode guard = new InferenceMode()) {
                    m.eval();
                    if (bf16) {
                      m.to(torch.ScalarType.BFloat16, false);
                    }
                    Tensor ids = torch.randint(1, c.vocabSize(), new long[] {1, 64});
                    Tensor mask = torch.ones(new long[] {1, 64}).to(torch.ScalarType.Long);
                    return medianMs(5, 25, () -> m.forward(ids, mask, null));
                  }
                })
            .precision();
      }
      default -> throw new WhetException("precision must be auto, fp32 or bf16, not " + precision);
    }
  }

  /** The median time of {@code runs} calls after {@code warmups} more, in milliseconds. */
  private static double medianMs(int warmups, int runs, Runnable f) {
    double[] ms = new double[runs];
    for (int i = -warmups; i < runs; i++) {
      long t0 = System.nanoTime();
      try (PointerScope scope = new PointerScope()) {
        f.run();
      }
      if (i >= 0) {
        ms[i] = (System.nanoTime() - t0) / 1e6;
      }
    }
    java.util.Arrays.sort(ms);
    return ms[runs / 2];
  }

  /**
   * Freezes the embeddings (their gradient is the same fp32 work in both precisions) and, under
   * LoRA, every weight but the adapters, as training does.
   */
  private static void trainOnlyTheLayer(org.bytedeco.pytorch.Module m, Lora lora) {
    m.train(true);
    Weights.parameters(m)
        .forEach(
            (name, t) -> {
              if (name.contains("embed") || (lora != null && !name.contains(".lora_"))) {
                t.set_requires_grad(false);
              }
            });
  }

  /**
   * A forward and backward pass; the output's sum is the loss, so every trainable weight learns.
   */
  private static void step(boolean bf16, Supplier<Tensor> forward) {
    Trainer.autocast(bf16, forward).sum().backward();
  }

  /** {@link #choose} for this CPU, with the cache under {@code WHET_HOME/calibration/}. */
  private static PrecisionChoice onThisMachine(
      String shape, String timed, int threads, LayerTimer timer) {
    return choose(
        shape,
        timed,
        threads,
        Engine.cpuHasNativeBf16(),
        WhetHome.root().resolve("calibration"),
        timer);
  }

  /** The adapters' part of a shape key: rank and targets, or "-" without LoRA. */
  private static String adapters(Lora lora) {
    return lora == null ? "-" : lora.rank() + " " + lora.targets();
  }

  /**
   * Reads the cached choice for this CPU, thread count and shape, or measures and caches it.
   *
   * @param timer measures one layer; called only where the CPU has native bf16 and no cache exists
   */
  static PrecisionChoice choose(
      String shape,
      String timed,
      int threads,
      boolean nativeBf16,
      Path cacheDir,
      LayerTimer timer) {
    if (!nativeBf16) {
      return new PrecisionChoice(
          "fp32",
          Double.NaN,
          Double.NaN,
          "fp32: this CPU has no native bf16 (avx512_bf16 or amx_bf16), where bf16 is emulated and"
              + " about a hundred times slower");
    }
    String key = Engine.cpuModel() + " | " + threads + " threads | " + shape + " | v" + VERSION;
    Path file = cacheDir.resolve(Sha256.hex(key).substring(0, 16) + ".json");
    PrecisionChoice cached = read(file, key, timed);
    if (cached != null) {
      return cached;
    }
    int before = Engine.threads();
    Engine.threads(threads);
    double fp32;
    double bf16;
    try {
      fp32 = timer.ms(false);
      bf16 = timer.ms(true);
    } finally {
      Engine.threads(before);
    }
    PrecisionChoice c = fromTimes(timed, fp32, bf16);
    write(file, key, c);
    return c;
  }

  /**
   * bf16 when it takes at most {@link #BF16_MAX_SHARE} of fp32's time, else fp32.
   *
   * @param timed what was timed, for the reason ("one layer's forward + backward")
   */
  static PrecisionChoice fromTimes(String timed, double fp32Ms, double bf16Ms) {
    boolean bf16 = bf16Ms <= fp32Ms * BF16_MAX_SHARE;
    String measured =
        String.format(
            Locale.ROOT,
            "%s took %.1f ms in bf16 and %.1f ms in fp32 on this machine",
            timed,
            bf16Ms,
            fp32Ms);
    return new PrecisionChoice(
        bf16 ? "bf16" : "fp32",
        fp32Ms,
        bf16Ms,
        (bf16 ? "bf16: " : "fp32: ") + measured + (bf16 ? "" : " (bf16 is not clearly faster)"));
  }

  private static PrecisionChoice read(Path file, String key, String timed) {
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try {
      JsonNode n = Json.MAPPER.readTree(file.toFile());
      if (!key.equals(n.path("key").asText())) {
        return null; // a hash collision, or a file edited by hand: measure again
      }
      double fp32 = n.path("fp32_ms").asDouble(Double.NaN);
      double bf16 = n.path("bf16_ms").asDouble(Double.NaN);
      if (!(fp32 > 0 && bf16 > 0)) {
        return null; // fields missing or not times: measure again
      }
      return fromTimes(timed, fp32, bf16);
    } catch (IOException e) {
      return null; // unreadable cache: measure again and overwrite it
    }
  }

  private static void write(Path file, String key, PrecisionChoice c) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("key", key);
    n.put("fp32_ms", c.fp32Ms());
    n.put("bf16_ms", c.bf16Ms());
    n.put("precision", c.precision());
    try {
      Files.createDirectories(file.getParent());
      Atomic.writeString(file, n.toPrettyString());
    } catch (IOException | RuntimeException e) {
      // A read-only home only costs a measurement next time.
    }
  }
}
