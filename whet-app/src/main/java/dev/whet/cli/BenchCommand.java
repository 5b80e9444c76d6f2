package dev.whet.cli;

import dev.whet.WhetException;
import dev.whet.bench.EmbedBench;
import dev.whet.bench.OnnxRuntimeEmbed;
import dev.whet.bench.TrainBench;
import dev.whet.data.Task;
import dev.whet.engine.Engine;
import dev.whet.io.Json;
import dev.whet.io.ModelCatalog;
import dev.whet.io.Tokenizer;
import dev.whet.model.Encoder;
import dev.whet.model.EncoderConfig;
import dev.whet.train.PrecisionChoice;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code whet bench}: speed measurements to record in docs/benchmarks.md. */
@Command(
    name = "bench",
    description = "Measure training, embedding, generation and serving speed on this machine.",
    mixinStandardHelpOptions = true,
    subcommands = {
      BenchCommand.Train.class,
      BenchCommand.Embed.class,
      BenchCommand.Generate.class,
      BenchCommand.Serve.class
    })
final class BenchCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static String machine() {
    String name = Engine.cpuName();
    if (name.isEmpty()) {
      return System.getProperty("os.arch");
    }
    return name
        + ", "
        + Runtime.getRuntime().availableProcessors()
        + " cores"
        + (Engine.cpuHasNativeBf16() ? ", native bf16" : ", no native bf16");
  }

  @Command(
      name = "train",
      description =
          "Tokens/s of one training step (forward, backward, AdamW) on a fixed batch: a classifier"
              + " on an encoder, or, when --base is a Llama-family directory or config.json, a LoRA"
              + " SFT step on a randomly initialised decoder of that shape.",
      mixinStandardHelpOptions = true)
  static final class Train implements Callable<Integer> {
    @Mixin BaseModelOption base;

    @Mixin ThreadsOption threads;

    @Option(
        names = "--batch-size",
        description = "Rows per batch (default: 32 for encoders, 4 for decoders).")
    Integer batch;

    @Option(
        names = "--lora-targets",
        split = ",",
        defaultValue = "q,k,v,o,gate,up,down",
        description = "Decoders: projections with adapters (default: ${DEFAULT-VALUE}).")
    List<String> loraTargets;

    @Option(
        names = "--lora-rank",
        defaultValue = "8",
        description = "Decoders: adapter rank (default: ${DEFAULT-VALUE}).")
    int loraRank;

    @Option(
        names = "--seq-len",
        defaultValue = "128",
        description = "Tokens per row (default: ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(
        names = "--steps",
        defaultValue = "10",
        description = "Timed steps after two warm-up steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(
        names = "--precision",
        defaultValue = "auto",
        description =
            "auto (what `whet train` picks: bf16 where this machine runs the model's layer"
                + " clearly faster in it, measured once and cached), fp32 or bf16.")
    String precision;

    @Option(
        names = "--attention-dropout",
        description =
            "Encoders: dropout on the attention probabilities (default: what `whet train` uses,"
                + " ${DEFAULT-VALUE}); above 0 the attention cannot use the fused kernel.")
    double attentionDropout = new dev.whet.train.JobConfig().attentionDropout;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() {
      int n = threads.apply();
      if (!List.of("auto", "bf16", "fp32").contains(precision)) {
        throw new WhetException("--precision must be auto, fp32 or bf16");
      }
      dev.whet.model.LlamaConfig decoder = decoderShape(base.base);
      if (decoder != null) {
        dev.whet.model.Lora lora =
            new dev.whet.model.Lora(loraRank, 2.0 * loraRank, 0.0, loraTargets);
        return decoder(decoder, lora, bf16(() -> PrecisionChoice.forDecoder(decoder, lora, n)));
      }
      EncoderConfig read = EncoderConfig.read(base.resolve().resolve("config.json"));
      EncoderConfig config = read.withDropout(read.hiddenDropout(), attentionDropout);
      boolean bf16 = bf16(() -> PrecisionChoice.forEncoder(config, null, n));
      TrainBench.Result r = TrainBench.run(config, batch == null ? 32 : batch, seqLen, steps, bf16);
      if (json) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", base.base);
        out.put("batch_size", r.batch());
        out.put("seq_len", r.seqLen());
        out.put("steps", r.steps());
        out.put("precision", r.precision());
        out.put("attention_dropout", attentionDropout);
        out.put("ms_per_step", r.msPerStep());
        out.put("tokens_per_second", r.tokensPerSecond());
        out.put("gflops", r.gflops());
        out.put("matmul_peak_gflops", r.peakGflops());
        out.put("share_of_peak", r.gflops() / r.peakGflops());
        out.put("threads", r.threads());
        out.put("machine", machine());
        System.out.println(Json.line(out));
      } else {
        System.out.printf(
            Locale.ROOT,
            "%s, batch %d x %d, %s, attention dropout %s, %d threads on %s:%n  %.0f ms/step, %.0f tokens/s, %.1f GFLOP/s = %.0f%% of this machine's %.0f GFLOP/s matrix multiply%n",
            base.base,
            r.batch(),
            r.seqLen(),
            r.precision(),
            attentionDropout,
            r.threads(),
            machine(),
            r.msPerStep(),
            r.tokensPerSecond(),
            r.gflops(),
            100 * r.gflops() / r.peakGflops(),
            r.peakGflops());
      }
      return 0;
    }

    /** Whether to time bf16: as asked, or for auto what {@code whet train} would choose. */
    private boolean bf16(java.util.function.Supplier<PrecisionChoice> auto) {
      return precision.equals("auto")
          ? auto.get().precision().equals("bf16")
          : precision.equals("bf16");
    }

    private int decoder(dev.whet.model.LlamaConfig config, dev.whet.model.Lora lora, boolean bf16) {
      dev.whet.bench.SftBench.Result r =
          dev.whet.bench.SftBench.run(config, lora, batch == null ? 4 : batch, seqLen, steps, bf16);
      if (json) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", base.base);
        out.put("task", Task.SFT);
        out.put("method", "lora");
        out.put("parameters", r.parameters());
        out.put("trainable_parameters", r.trainable());
        out.put("batch_size", r.batch());
        out.put("seq_len", r.seqLen());
        out.put("steps", r.steps());
        out.put("precision", r.precision());
        out.put("ms_per_step", r.msPerStep());
        out.put("tokens_per_second", r.tokensPerSecond());
        out.put("threads", r.threads());
        out.put("machine", machine());
        System.out.println(Json.line(out));
      } else {
        System.out.printf(
            Locale.ROOT,
            "%s shape (%s parameters, random weights), LoRA r=%d on %s (%s trainable), batch %d x"
                + " %d, %s, %d threads on %s:%n  %.0f ms/step, %.0f tokens/s%n",
            base.base,
            ModelsCommand.humanCount(r.parameters()),
            loraRank,
            String.join(",", loraTargets),
            ModelsCommand.humanCount(r.trainable()),
            r.batch(),
            r.seqLen(),
            r.precision(),
            r.threads(),
            machine(),
            r.msPerStep(),
            r.tokensPerSecond());
      }
      return 0;
    }
  }

  /** A Llama-family shape when {@code base} is a decoder directory or config.json, else null. */
  static dev.whet.model.LlamaConfig decoderShape(String base) {
    java.nio.file.Path p = java.nio.file.Path.of(base);
    java.nio.file.Path config = java.nio.file.Files.isRegularFile(p) ? p : p.resolve("config.json");
    if (!java.nio.file.Files.isRegularFile(config)) {
      return null;
    }
    try {
      String type =
          new com.fasterxml.jackson.databind.ObjectMapper()
              .readTree(config.toFile())
              .path("model_type")
              .asText("");
      return dev.whet.model.LlamaConfig.SUPPORTED.contains(type)
          ? dev.whet.model.LlamaConfig.read(config)
          : null;
    } catch (java.io.IOException e) {
      throw new WhetException(config + ": not valid JSON (" + e.getMessage() + ")", e);
    }
  }

  @Command(
      name = "embed",
      description =
          "Embedding latency and throughput of the default model, beside ONNX Runtime on the same .onnx.",
      mixinStandardHelpOptions = true)
  static final class Embed implements Callable<Integer> {
    @Mixin ThreadsOption threads;

    @Option(
        names = "--tokens",
        defaultValue = "64",
        description = "Tokens per input (default: ${DEFAULT-VALUE}).")
    int tokens;

    @Option(
        names = "--runs",
        defaultValue = "200",
        description = "Single-text runs (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(
        names = "--precision",
        defaultValue = "auto",
        description =
            "Whet's inference precision: auto (what `whet embed` and the service use: bf16 where"
                + " it measured clearly faster here), fp32 or bf16.")
    String precision;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() throws Exception {
      int n = threads.apply();
      int batchRuns = Math.max(5, runs / 20);
      java.nio.file.Path dir = ModelCatalog.resolve(ModelCatalog.DEFAULT);
      boolean bf16 = PrecisionChoice.forInference(precision, dir).equals("bf16");
      try (Encoder encoder = Encoder.load(dir, 0, bf16)) {
        long[][] rows = EmbedBench.inputs(encoder.tokenizer(), tokens, 64);
        EmbedBench.Result whet =
            EmbedBench.run(
                "whet", r -> encoder.embed(Tokenizer.Batch.pad(r, null, 0)), rows, runs, batchRuns);
        EmbedBench.Result ort = OnnxRuntimeEmbed.run(rows, runs, batchRuns);
        if (json) {
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("model", ModelCatalog.DEFAULT);
          out.put("precision", encoder.precision());
          out.put("threads", n);
          out.put("machine", machine());
          out.put("results", List.of(whet, ort));
          System.out.println(Json.line(out));
        } else {
          System.out.printf(
              "%s, %d-token inputs, Whet in %s, %d threads on %s%n",
              ModelCatalog.DEFAULT, tokens, encoder.precision(), n, machine());
          System.out.printf(
              "%-14s %10s %10s %14s %12s%n",
              "system", "p50 ms", "p99 ms", "sentences/s", "tokens/s");
          for (EmbedBench.Result r : List.of(whet, ort)) {
            System.out.printf(
                Locale.ROOT,
                "%-14s %10.2f %10.2f %14.1f %12.0f%n",
                r.system(),
                r.p50Ms(),
                r.p99Ms(),
                r.sentencesPerSecond(),
                r.tokensPerSecond());
          }
        }
      }
      return 0;
    }
  }

  @Command(
      name = "generate",
      description =
          "Tokens/s of generation with the KV cache on a randomly initialised decoder of"
              + " SmolLM2-135M's shape (or --config).",
      mixinStandardHelpOptions = true)
  static final class Generate implements Callable<Integer> {
    @Option(
        names = "--config",
        paramLabel = "CONFIG.json",
        description = "A Llama-family config.json giving the shape (default: SmolLM2-135M).")
    java.nio.file.Path config;

    @Option(
        names = "--prompt-tokens",
        defaultValue = "128",
        description = "Prompt length (default: ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(
        names = "--new-tokens",
        defaultValue = "128",
        description = "Tokens generated per run (default: ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(
        names = "--runs",
        defaultValue = "3",
        description = "Timed runs after one warm-up (default: ${DEFAULT-VALUE}).")
    int runs;

    @Mixin ThreadsOption threads;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() {
      threads.apply();
      if (newTokens < 2) {
        throw new WhetException("--new-tokens must be at least 2");
      }
      dev.whet.model.LlamaConfig c =
          config == null
              ? dev.whet.bench.GenerateBench.smolLm2Shape()
              : dev.whet.model.LlamaConfig.read(config);
      String shape = config == null ? "SmolLM2-135M shape" : config.toString();
      dev.whet.bench.GenerateBench.Result r =
          dev.whet.bench.GenerateBench.run(c, shape, promptTokens, newTokens, runs);
      if (json) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("shape", r.shape());
        out.put("parameters", r.parameters());
        out.put("prompt_tokens", r.promptTokens());
        out.put("new_tokens", r.newTokens());
        out.put("runs", r.runs());
        out.put("prefill_ms", r.prefillMs());
        out.put("prefill_tokens_per_second", r.prefillTokensPerSecond());
        out.put("decode_tokens_per_second", r.decodeTokensPerSecond());
        out.put("ms_per_token", r.msPerToken());
        out.put("threads", r.threads());
        out.put("machine", machine());
        System.out.println(Json.line(out));
      } else {
        System.out.printf(
            Locale.ROOT,
            "%s (%s parameters, fp32, random weights), %d threads on %s:%n"
                + "  prefill %d tokens: %.0f ms (%.0f tokens/s)%n"
                + "  decode with KV cache: %.1f tokens/s (%.1f ms/token), %d new tokens, median of"
                + " %d runs%n",
            r.shape(),
            ModelsCommand.humanCount(r.parameters()),
            r.threads(),
            machine(),
            r.promptTokens(),
            r.prefillMs(),
            r.prefillTokensPerSecond(),
            r.decodeTokensPerSecond(),
            r.msPerToken(),
            r.newTokens(),
            r.runs());
      }
      return 0;
    }
  }

  @Command(
      name = "serve",
      description =
          "Load test of POST /v1/whet/classify on loopback: concurrent clients, a fixed number of"
              + " requests, p50/p99 latency and throughput next to single-request latency.",
      mixinStandardHelpOptions = true)
  static final class Serve implements Callable<Integer> {
    @Option(
        names = "--model",
        paramLabel = "RUN|DIR",
        description =
            "A fine-tuned classifier (run id, run directory or model directory); by default one is"
                + " fine-tuned from --base for a few steps first.")
    String model;

    @Option(
        names = "--base",
        defaultValue = ModelCatalog.DEFAULT,
        description =
            "Base of the classifier trained when no --model is given (default: ${DEFAULT-VALUE}).")
    String base;

    @Option(
        names = "--train-steps",
        defaultValue = "8",
        description = "Steps of that training (default: ${DEFAULT-VALUE}).")
    int trainSteps;

    @Option(
        names = "--clients",
        defaultValue = "50",
        description = "Concurrent clients (default: ${DEFAULT-VALUE}).")
    int clients;

    @Option(
        names = "--requests",
        defaultValue = "2000",
        description = "Requests in all, one text each (default: ${DEFAULT-VALUE}).")
    int requests;

    @Option(
        names = "--singles",
        defaultValue = "200",
        description =
            "Sequential requests for the single-request latency (default: ${DEFAULT-VALUE}).")
    int singles;

    @Mixin ThreadsOption threads;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() throws Exception {
      int n = threads.apply();
      if (clients < 1 || requests < 1 || singles < 0) {
        throw new WhetException(
            "--clients and --requests must be at least 1, --singles at least 0");
      }
      java.nio.file.Path tmp = null;
      java.nio.file.Path dir;
      if (model != null) {
        dir = PredictCommand.modelDir(model);
      } else {
        tmp = java.nio.file.Files.createTempDirectory("whet-bench-serve");
        System.err.println("whet bench serve: fine-tuning a classifier from " + base + " ...");
        dir = dev.whet.server.ServeBench.trainClassifier(tmp, base, trainSteps);
      }
      dev.whet.server.ServeBench.Result r;
      try (dev.whet.server.ServeBench.Server server =
          new dev.whet.server.ServeBench.Server("bench-classifier", dir)) {
        r =
            dev.whet.server.ServeBench.run(
                server.apiBase(), "bench-classifier", clients, requests, singles);
      } finally {
        if (tmp != null) {
          try (var walk = java.nio.file.Files.walk(tmp)) {
            for (java.nio.file.Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
              java.nio.file.Files.deleteIfExists(p);
            }
          }
        }
      }
      if (json) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", model != null ? model : "fine-tuned from " + base);
        out.put("clients", r.clients());
        out.put("requests", r.requests());
        out.put("errors", r.errors());
        out.put("statuses", r.statuses());
        out.put("seconds", r.seconds());
        out.put("requests_per_second", r.throughput());
        out.put("p50_ms", r.p50Ms());
        out.put("p99_ms", r.p99Ms());
        out.put("max_ms", r.maxMs());
        out.put("single_p50_ms", r.singleP50Ms());
        out.put("single_p99_ms", r.singleP99Ms());
        out.put("threads", n);
        out.put("machine", machine());
        System.out.println(Json.line(out));
      } else {
        System.out.printf(
            Locale.ROOT,
            "classify, one text per request, loopback%n"
                + "single client:  %d requests, p50 %.1f ms, p99 %.1f ms%n"
                + "%d clients:     %d requests in %.2f s = %.0f req/s, p50 %.1f ms, p99 %.1f ms, max %.1f"
                + " ms, errors %d %s%n"
                + "%d threads on %s%n",
            r.singles(),
            r.singleP50Ms(),
            r.singleP99Ms(),
            r.clients(),
            r.requests(),
            r.seconds(),
            r.throughput(),
            r.p50Ms(),
            r.p99Ms(),
            r.maxMs(),
            r.errors(),
            r.statuses(),
            n,
            machine());
      }
      return r.errors() == 0 ? 0 : 1;
    }
  }
}
