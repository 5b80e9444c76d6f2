package dev.whet.train;

import dev.whet.engine.Engine;
import dev.whet.model.EncoderConfig;
import dev.whet.model.LlamaConfig;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What a job will cost before it runs, so a shared server can refuse one that would hold it for
 * days or not fit in memory: steps, tokens, time and memory, from the base model's {@code
 * config.json}, the training file's size and a matrix-multiply rate measured on this machine.
 *
 * <p>It is an estimate in the ordinary sense, good to a factor of about two: tokens per example are
 * read from the file's bytes (about four per token), and time is the step's multiply-adds (six per
 * parameter and token for full fine-tuning, four when only adapters or the upper layers learn, plus
 * attention) at {@link #EFFICIENCY} of the measured rate.
 *
 * @param steps optimizer steps
 * @param tokens tokens through the model in training, every epoch counted
 * @param seconds wall time of the training itself (not data checks or evaluation)
 * @param memory peak memory of one training step
 * @param disk the most the run directory holds: the model and {@code keep_checkpoints} plus the
 *     best checkpoint, each with its optimizer state (LoRA checkpoints hold only the adapters)
 * @param precision what the estimate assumed: the job's precision, or for {@code auto} bf16 where
 *     the CPU has it natively
 */
public record JobEstimate(
    long steps, long tokens, double seconds, MemoryEstimate memory, long disk, String precision) {

  /**
   * The share of the bare matrix-multiply rate a training step reaches: {@code whet bench train}
   * reports it ("55% of this machine's 668 GFLOP/s matrix multiply" for the default model in bf16
   * on a 2-core native-bf16 EPYC, 60–69 % in fp32 on one thread; docs/benchmarks.md).
   */
  static final double EFFICIENCY = 0.5;

  /** Bytes of a training file per token of its text: JSON syntax and keys included. */
  static final double BYTES_PER_TOKEN = 4;

  /**
   * @param job the job as requested ({@code auto} values are resolved as training would)
   * @param examples lines in the training file
   * @param fileBytes the training file's size
   * @param machine what this machine multiplies per second: see {@link Machine#measure}
   */
  public static JobEstimate of(
      JobConfig job, Path baseDir, int examples, long fileBytes, Machine machine) {
    Path configJson = baseDir.resolve("config.json");
    String method =
        job.method.equals("auto") ? (job.trainsDecoder() ? "lora" : "full") : job.method;
    Shape s =
        job.trainsDecoder()
            ? Shape.of(LlamaConfig.read(configJson))
            : Shape.of(EncoderConfig.read(configJson));
    int seqLen =
        (int)
            Math.max(
                1,
                Math.min(
                    job.maxLength,
                    Math.ceil(fileBytes / (double) Math.max(1, examples) / BYTES_PER_TOKEN)));
    boolean setfit = method.equals("setfit");
    double epochs =
        job.epochs.equals("auto")
            ? (job.trainsDecoder() ? 3 : setfit ? 1 : JobConfig.autoEpochs(examples))
            : Double.parseDouble(job.epochs);
    // SetFit trains on drawn pairs of examples (two texts each), not on the examples.
    long units =
        setfit
            ? Math.min(
                (long) job.setfit.iterations
                    * examples
                    * (job.setfit.loss.equals("ranking") ? 1 : 2),
                job.setfit.maxPairs)
            : examples;
    long perStep = (long) job.batchSize * job.gradAccum;
    long stepsPerEpoch = (units + perStep - 1) / perStep;
    long steps = (long) Math.ceil(stepsPerEpoch * epochs);
    if (job.maxSteps > 0) {
      steps = Math.min(steps, job.maxSteps);
    }
    long seen = (long) Math.min(steps * (double) perStep, units * epochs);
    long tokens = seen * seqLen * (setfit ? 2 : 1);

    long trainable =
        switch (method) {
          case "lora" -> s.loraParams(job.lora.rank, job.lora.targets.size());
          case "freeze" ->
              s.layerParams() * Math.max(0, s.layers() - job.freezeLayers) + s.headParams();
          default -> s.totalParams();
        };
    // Forward: two flops per weight and token, and attention's two T x T products per layer.
    double forward = 2.0 * s.matmulParams() + 4.0 * s.layers() * seqLen * s.hidden();
    // Backward: gradients of the activations (one forward's worth) and, when every weight learns,
    // of the weights (another).
    double backward = method.equals("full") ? 2 * forward : forward;
    String precision =
        job.precision.equals("auto") ? (machine.nativeBf16() ? "bf16" : "fp32") : job.precision;
    boolean bf16 = precision.equals("bf16");
    double seconds = tokens * (forward + backward) / (EFFICIENCY * machine.rate(bf16));
    MemoryEstimate memory =
        MemoryEstimate.of(
            s.layers(),
            s.hidden(),
            s.intermediate(),
            s.heads(),
            s.totalParams(),
            trainable,
            job.batchSize,
            job.maxLength,
            bf16);
    long checkpoint = 4 * (method.equals("lora") ? trainable : s.totalParams()) + 8 * trainable;
    long disk = 4 * s.totalParams() + (job.keepCheckpoints + 1L) * checkpoint;
    return new JobEstimate(steps, tokens, seconds, memory, disk, precision);
  }

  /** "about 12 min and 1.3 GiB (400 steps, 1.2 M tokens, bf16)": for an event or an error. */
  public String describe() {
    return String.format(
        Locale.ROOT,
        "about %s and %s (%d steps, %s tokens, %s)",
        duration(seconds),
        MemoryEstimate.gib(memory.total()),
        steps,
        count(tokens),
        precision);
  }

  public static String duration(double seconds) {
    if (seconds < 90) {
      return String.format(Locale.ROOT, "%.0f s", Math.max(1, seconds));
    }
    if (seconds < 90 * 60) {
      return String.format(Locale.ROOT, "%.0f min", seconds / 60);
    }
    return String.format(Locale.ROOT, "%.1f h", seconds / 3600);
  }

  private static String count(long n) {
    if (n < 10_000) return Long.toString(n);
    return n < 1_000_000
        ? String.format(Locale.ROOT, "%.0f k", n / 1e3)
        : String.format(Locale.ROOT, "%.1f M", n / 1e6);
  }

  /**
   * Matrix-multiply throughput on this machine, in flops per second.
   *
   * @param bf16Rate NaN where the CPU has no native bf16
   */
  public record Machine(double fp32Rate, double bf16Rate, boolean nativeBf16) {

    /** Emulated bf16 runs about a hundred times slower than fp32 (DESIGN.md, engine notes). */
    static final double EMULATED_BF16_SLOWDOWN = 100;

    double rate(boolean bf16) {
      if (!bf16) {
        return fp32Rate;
      }
      return nativeBf16 ? bf16Rate : fp32Rate / EMULATED_BF16_SLOWDOWN;
    }

    /**
     * The dense-math ceiling at {@code threads} ({@link Engine#matmulGflops}; under a second), bf16
     * only where the CPU has it natively.
     */
    public static Machine measure(int threads) {
      boolean nativeBf16 = Engine.cpuHasNativeBf16();
      int before = Engine.threads();
      Engine.threads(threads);
      try {
        return new Machine(
            Engine.matmulGflops(false) * 1e9,
            nativeBf16 ? Engine.matmulGflops(true) * 1e9 : Double.NaN,
            nativeBf16);
      } finally {
        Engine.threads(before);
      }
    }
  }

  /** The sizes an estimate needs, for either architecture. */
  private record Shape(
      int layers,
      int hidden,
      int intermediate,
      int heads,
      long layerParams,
      long embeddingParams,
      long headParams) {

    static Shape of(EncoderConfig c) {
      long h = c.hiddenSize();
      long layer = 4 * h * h + 2 * h * c.intermediateSize();
      long embeddings = (c.vocabSize() + c.maxPositions() + c.typeVocabSize()) * h;
      return new Shape(
          c.layers(), c.hiddenSize(), c.intermediateSize(), c.heads(), layer, embeddings, h * h);
    }

    static Shape of(LlamaConfig c) {
      long h = c.hiddenSize();
      long q = (long) c.heads() * c.headDim();
      long kv = (long) c.kvHeads() * c.headDim();
      long layer = h * q + 2 * h * kv + q * h + 3 * h * c.intermediateSize();
      long embeddings = (long) c.vocabSize() * h;
      // The output projection is a multiply over the vocabulary for every token, tied or not.
      return new Shape(
          c.layers(),
          c.hiddenSize(),
          c.intermediateSize(),
          c.heads(),
          layer,
          embeddings,
          c.vocabSize() * h);
    }

    /** Weights multiplied by every token: the layers and the head (embeddings are a lookup). */
    long matmulParams() {
      return layers * layerParams + headParams;
    }

    long totalParams() {
      return embeddingParams + layers * layerParams + headParams;
    }

    /** Adapters of rank r on {@code targets} projections per layer (each about h x h). */
    long loraParams(int rank, int targets) {
      return (long) layers * targets * 2L * rank * hidden;
    }
  }
}
