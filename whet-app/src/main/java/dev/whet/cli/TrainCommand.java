package dev.whet.cli;

import dev.whet.WhetException;
import dev.whet.engine.Collective;
import dev.whet.io.Json;
import dev.whet.train.JobConfig;
import dev.whet.train.TrainResult;
import dev.whet.train.TrainerListener;
import dev.whet.train.Training;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code whet train}: fine-tune a base model on a dataset. */
@Command(
    name = "train",
    description = "Fine-tune a base model on your examples (job file, flags, or both; flags win).",
    mixinStandardHelpOptions = true,
    sortOptions = false)
final class TrainCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "JOB.yaml",
      description = "Job file (see --print-config).")
  Path jobFile;

  @Option(
      names = "--base",
      paramLabel = "NAME|DIR",
      description = "Base model: built-in name or Hugging Face directory.")
  String base;

  @Option(
      names = "--train",
      paramLabel = "FILE",
      description = "Training examples (JSONL, CSV, TSV).")
  String train;

  @Option(
      names = "--val",
      paramLabel = "FILE",
      description = "Validation examples: pick the best checkpoint, early stopping.")
  String val;

  @Option(
      names = "--test",
      paramLabel = "FILE",
      description = "Test examples, evaluated once at the end.")
  String test;

  @Option(
      names = "--task",
      paramLabel = "TASK",
      description =
          "classify, multilabel or pair (a classifier on an encoder), tokens (a tag per word:"
              + " entity extraction, from CoNLL or tokens/tags files), similarity or embed"
              + " (sentence embeddings from scored pairs, or from pairs and triplets), or sft"
              + " (supervised fine-tuning of a decoder on prompt/completion, chat or instruction"
              + " records), or dpo (preference tuning of a decoder on {prompt, chosen, rejected}"
              + " or OpenAI preference pairs).")
  String task;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description = "Run directory (default: WHET_HOME/runs/run-<time>).")
  String out;

  @Option(
      names = "--epochs",
      paramLabel = "N",
      description = "Passes over the data (default auto: from the dataset size).")
  String epochs;

  @Option(
      names = "--lr",
      paramLabel = "X",
      description = "Peak learning rate (default auto: by method).")
  String lr;

  @Option(names = "--batch-size", paramLabel = "N", description = "Examples per batch.")
  Integer batchSize;

  @Option(names = "--max-length", paramLabel = "N", description = "Truncate inputs to N tokens.")
  Integer maxLength;

  @Option(
      names = "--seed",
      paramLabel = "N",
      description = "Seed for the head, dropout and data order.")
  Long seed;

  @Option(
      names = "--method",
      paramLabel = "M",
      description =
          "auto (lora for sft, else full), full, freeze (embeddings + first freeze_layers"
              + " layers), lora, or setfit (classify: contrastive pairs, then a logistic-regression"
              + " head; for a few examples per label).")
  String method;

  @Option(
      names = "--generate-eval",
      paramLabel = "N",
      description =
          "sft: at the end, generate N held-out completions with the base and the tuned model"
              + " and score them (exact match, ROUGE-L); 0 turns it off (default 20).")
  Integer generateEval;

  @Option(
      names = "--precision",
      paramLabel = "P",
      description =
          "auto (bf16 where this machine runs the model's layer clearly faster in it, measured"
              + " once and cached), fp32 or bf16.")
  String precision;

  @Mixin ThreadsOption threads;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "Any job field, e.g. --set warmup=0.06 --set lora.rank=16.")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--print-config", description = "Print the fully resolved job and exit.")
  boolean printConfig;

  @Option(
      names = "--resume",
      paramLabel = "RUN",
      description = "Continue a stopped run exactly from its last checkpoint.")
  String resume;

  @ArgGroup(exclusive = true)
  Output output = new Output();

  @ArgGroup(
      exclusive = false,
      heading = "%nData parallel (one process per rank; see whet launch):%n")
  Group group = new Group();

  static final class Group {
    @Option(
        names = "--world-size",
        paramLabel = "N",
        description = "Processes training together; every one is started with the same job.")
    int worldSize = 1;

    @Option(names = "--rank", paramLabel = "R", description = "This process's rank, 0 to N-1.")
    int rank = 0;

    @Option(
        names = "--rendezvous",
        paramLabel = "HOST:PORT",
        description = "Where rank 0 listens and the others connect (rank 0's address).")
    String rendezvous;

    @Option(
        names = "--group-timeout",
        paramLabel = "SECONDS",
        description =
            "How long a rank waits for the others to join, or for one step's exchange, before"
                + " failing (default ${DEFAULT-VALUE}).")
    long timeoutSeconds = 600;

    /** Joins the group the flags describe, or returns null for one process. */
    Collective join() {
      if (worldSize == 1 && rank == 0) {
        return null;
      }
      if (rendezvous == null || !rendezvous.matches(".+:\\d+")) {
        throw new WhetException(
            "--world-size "
                + worldSize
                + " needs --rendezvous HOST:PORT (rank 0's address), e.g. --rendezvous"
                + " 10.0.0.1:29500");
      }
      int colon = rendezvous.lastIndexOf(':');
      return Collective.join(
          rendezvous.substring(0, colon),
          Integer.parseInt(rendezvous.substring(colon + 1)),
          rank,
          worldSize,
          Duration.ofSeconds(timeoutSeconds));
    }
  }

  static final class Output {
    @Option(
        names = "--json",
        description = "Print progress as JSON lines; the last line is the result object.")
    boolean json;

    @Option(
        names = {"-q", "--quiet"},
        description = "Print only the result.")
    boolean quiet;
  }

  /** The job from the file (if any), then flags, then --set overrides. */
  JobConfig job() {
    JobConfig job = jobFile != null ? JobConfig.read(jobFile) : new JobConfig();
    if (base != null) job.base = base;
    if (train != null) job.train = train;
    if (val != null) job.val = val;
    if (test != null) job.test = test;
    if (task != null) job.task = task;
    if (out != null) job.out = out;
    if (epochs != null) job.epochs = epochs;
    if (lr != null) job.lr = lr;
    if (batchSize != null) job.batchSize = batchSize;
    if (maxLength != null) job.maxLength = maxLength;
    if (seed != null) job.seed = seed;
    if (method != null) job.method = method;
    if (precision != null) job.precision = precision;
    if (threads.threads != null) job.threads = threads.threads;
    if (generateEval != null) job.sft.generateEval = generateEval;
    return job.with(overrides);
  }

  @Override
  public Integer call() {
    if (printConfig) {
      return train(null);
    }
    if (resume == null) {
      job().validate(); // a bad job fails here, not after the whole group has formed
    }
    try (Collective g = group.join()) {
      return train(g);
    }
  }

  private int train(Collective g) {
    if (g != null && g.rank() != 0) {
      // The contract for scripts: only rank 0 prints; the others report through their exit code
      // (and errors on stderr).
      run(g, List.of());
      return 0;
    }
    List<TrainerListener> listeners = new ArrayList<>();
    if (output.json) {
      listeners.add(new JsonLinesListener());
    } else if (!output.quiet) {
      listeners.add(new ProgressListener());
    }
    if (printConfig && resume == null) {
      System.out.print(job().copy().toYaml());
      return 0;
    }
    TrainResult r = run(g, listeners);
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("run_dir", r.runDir().toString());
    result.put("model_dir", r.modelDir().toString());
    result.put("metric", r.metric());
    result.put("best_metric", Double.isNaN(r.bestMetric()) ? null : r.bestMetric());
    result.put("best_step", r.bestStep());
    result.put("steps", r.steps());
    result.put("train_seconds", r.trainSeconds());
    result.put("real_tokens_per_second", r.realTokens() / Math.max(1e-9, r.trainSeconds()));
    result.put("stopped_early", r.stoppedEarly());
    result.put("validation", r.finalEval());
    result.put("test", r.test());
    java.nio.file.Path evalJson = r.runDir().resolve("eval").resolve("eval.json");
    if (java.nio.file.Files.isRegularFile(evalJson)) {
      result.put("eval", evalJson.toString());
    }
    if (output.json) {
      System.out.println(Json.line(result));
    } else {
      System.out.printf(Locale.ROOT, "%nmodel saved to %s%n", r.modelDir());
      if (!r.finalEval().isEmpty()) {
        System.out.println("validation (best checkpoint): " + format(r.finalEval()));
      }
      if (!r.test().isEmpty()) {
        System.out.println("test: " + format(r.test()));
      }
      System.out.printf(
          Locale.ROOT,
          "%d steps in %.0f s (%.0f real tokens/s)%n",
          r.steps(),
          r.trainSeconds(),
          r.realTokens() / Math.max(1e-9, r.trainSeconds()));
    }
    return 0;
  }

  private TrainResult run(Collective g, List<TrainerListener> listeners) {
    if (resume != null) {
      return Training.resume(resume, g, listeners);
    }
    JobConfig job = job();
    if (job.train == null) {
      throw new WhetException("no training data: give --train FILE (or train: in a job file)");
    }
    return Training.start(job, g, listeners);
  }

  static String format(Map<String, Double> m) {
    StringBuilder b = new StringBuilder();
    m.forEach((k, v) -> b.append(String.format(Locale.ROOT, "%s %.4f  ", k, v)));
    return b.toString().trim();
  }

  /** Progress for scripts: one JSON object per step, evaluation and event. */
  static final class JsonLinesListener implements TrainerListener {
    @Override
    public void onStep(Step s) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("type", "step");
      m.put("step", s.step());
      m.put("total_steps", s.totalSteps());
      m.put("loss", s.loss());
      m.put("lr", s.lr());
      m.put("tokens_per_second", s.tokens() / Math.max(1e-9, s.seconds()));
      m.putAll(s.metrics());
      System.out.println(Json.line(m));
    }

    @Override
    public void onEval(long step, Map<String, Double> metrics) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("type", "eval");
      m.put("step", step);
      m.putAll(metrics);
      System.out.println(Json.line(m));
    }

    @Override
    public void onEvent(String kind, String message) {
      System.out.println(Json.line(Map.of("type", "event", "event", kind, "message", message)));
    }
  }
}
