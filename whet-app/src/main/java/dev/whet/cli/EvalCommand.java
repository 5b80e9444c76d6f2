package dev.whet.cli;

import dev.whet.eval.EntityEvaluation;
import dev.whet.eval.EvalResult;
import dev.whet.eval.ReportWriter;
import dev.whet.eval.RunEvaluation;
import dev.whet.eval.SystemResult;
import dev.whet.io.Json;
import dev.whet.model.ModelRef;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code whet eval}: did fine-tuning pay off? */
@Command(
    name = "eval",
    description =
        "Score a fine-tuned model on labelled data, beside cheaper baselines; write a report.",
    mixinStandardHelpOptions = true)
final class EvalCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      paramLabel = "RUN|MODEL_DIR",
      description = "A run directory or id, or a saved model directory.")
  String model;

  @Option(
      names = "--data",
      required = true,
      paramLabel = "FILE",
      description = "Labelled test examples.")
  Path data;

  @Option(
      names = "--baselines",
      description =
          "Also score the cheaper alternatives. Classifiers: each tuned on the run's validation"
              + " file or by cross-validation on the training data: nearest centroid, kNN and a"
              + " linear probe on the base model's frozen embeddings, and TF-IDF (word and"
              + " character n-grams) + logistic regression. Decoders: the base model zero-shot"
              + " (with --system-prompt), few-shot with random and with retrieved training"
              + " examples (--shots), and with retrieved --documents (RAG).")
  boolean baselines;

  @Option(
      names = "--system-prompt",
      paramLabel = "TEXT|@FILE",
      description = "Decoders: the base model's system prompt in the baselines.")
  String systemPrompt;

  @Option(
      names = "--shots",
      paramLabel = "K",
      description = "Decoders: training examples in the few-shot prompts (default: the run's, 4).")
  Integer shots;

  @Option(
      names = "--documents",
      paramLabel = "FILE",
      description =
          "Decoders: passages for the RAG baseline (JSONL of {\"text\"}, or text with passages"
              + " separated by blank lines).")
  Path documents;

  @Option(
      names = "--generate",
      paramLabel = "N",
      description = "Decoders: held-out examples generated and scored per system (default 20).")
  Integer generate;

  @Option(
      names = "--train",
      paramLabel = "FILE",
      description = "Training examples for the baselines (default: the run's).")
  Path train;

  @Option(
      names = "--base",
      paramLabel = "NAME|DIR",
      description =
          "Encoders: the model this one was fine-tuned from, for the baselines on frozen"
              + " embeddings and the forgetting check (default: the one its whet.json records;"
              + " needed for a Transformers classifier loaded as it is).")
  String base;

  @Option(
      names = "--no-forgetting",
      negatable = true,
      defaultValue = "true",
      description = "Skip the general-ability (forgetting) check.")
  boolean forgetting;

  @Option(names = "--json", description = "Print eval.json's content as one JSON object.")
  boolean json;

  @Override
  public Integer call() {
    Path modelDir = embeddingModel(model);
    if (modelDir != null) {
      var r =
          RunEvaluation.embeddings(
              modelDir,
              ModelRef.runOf(modelDir),
              new RunEvaluation.Options(data, false, null, forgetting, base),
              m -> System.err.println(m));
      if (json) {
        System.out.println(Json.line(r));
      } else {
        System.out.println(r.path("headline").path("sentence").asText(""));
        System.out.println(r.path("verdict").asText());
        Path runDir = ModelRef.runOf(modelDir);
        if (runDir != null) {
          System.out.println("report: " + runDir.resolve("eval/report.html"));
        }
      }
      return 0;
    }
    Path sft = sftRun(model);
    if (sft != null) {
      return evaluateSft(sft);
    }
    modelDir = PredictCommand.modelDir(model);
    Path runDir = PredictCommand.runDirOf(modelDir);
    var options = new RunEvaluation.Options(data, baselines, train, forgetting, base);
    if (ModelRef.kindOf(modelDir) == ModelRef.Kind.TAGGER) {
      EntityEvaluation.Result r =
          RunEvaluation.entities(modelDir, runDir, options, m -> System.err.println(m));
      if (json) {
        System.out.println(Json.line(ReportWriter.mapper().valueToTree(r)));
        return 0;
      }
      printEntities(r);
      if (runDir != null) {
        System.out.println("report: " + runDir.resolve("eval/report.html"));
      }
      return 0;
    }
    EvalResult r = RunEvaluation.run(modelDir, runDir, options, m -> System.err.println(m));
    if (json) {
      System.out.println(ReportWriter.json(r).replace('\n', ' '));
      return 0;
    }
    print(r);
    if (runDir != null) {
      System.out.println("report: " + runDir.resolve("eval/report.html"));
    }
    return 0;
  }

  /**
   * A decoder run: held-out loss and perplexity, scored generations and the forgetting check,
   * before and after; with {@code --baselines} the base model prompted zero-shot, few-shot and with
   * documents beside it, and the verdict.
   */
  private int evaluateSft(Path runDir) {
    String system = systemPrompt;
    if (system != null && system.startsWith("@")) {
      try {
        system = java.nio.file.Files.readString(Path.of(system.substring(1))).strip();
      } catch (java.io.IOException e) {
        throw new dev.whet.WhetException(
            system.substring(1) + ": cannot read the system prompt (" + e.getMessage() + ")", e);
      }
    }
    String prompt = system;
    dev.whet.train.Training.evaluateSftRun(
        runDir,
        data,
        train,
        job -> {
          job.sft.baselines = baselines;
          if (prompt != null) job.sft.systemPrompt = prompt;
          if (shots != null) job.sft.shots = shots;
          if (documents != null) job.sft.documents = documents.toString();
          if (generate != null) job.sft.generateEval = generate;
        },
        m -> System.err.println(m));
    Path file = runDir.resolve("eval").resolve("eval.json");
    try {
      var e = Json.MAPPER.readTree(file.toFile());
      if (json) {
        System.out.println(Json.line(e));
        return 0;
      }
      var held = e.path("held_out");
      System.out.printf(
          Locale.ROOT,
          "held-out loss %.4f → %.4f, perplexity %.2f → %.2f (base → fine-tuned)%n",
          held.path("loss_before").asDouble(),
          held.path("loss_after").asDouble(),
          held.path("perplexity_before").asDouble(),
          held.path("perplexity_after").asDouble());
      if (e.has("verdict")) {
        for (var sys : e.path("systems")) {
          System.out.printf(
              Locale.ROOT,
              "  %-40s log-likelihood %.3f  ROUGE-L %s  %.0f prompt tokens%n",
              sys.path("description").asText(),
              sys.path("loglik").asDouble(),
              sys.path("rouge_l").isNumber()
                  ? String.format(Locale.ROOT, "%.3f", sys.path("rouge_l").asDouble())
                  : "–",
              sys.path("prompt_tokens").asDouble());
        }
        System.out.println(e.path("verdict").asText());
      }
      System.out.println("report: " + runDir.resolve("eval/report.html"));
      return 0;
    } catch (java.io.IOException ex) {
      throw new dev.whet.WhetException(file + ": cannot read (" + ex.getMessage() + ")", ex);
    }
  }

  /** The run directory when {@code ref} names an SFT run (or its model/), else null. */
  private static Path sftRun(String ref) {
    Path parent = Path.of(ref).toAbsolutePath().getParent();
    for (String candidate : parent == null ? List.of(ref) : List.of(ref, parent.toString())) {
      try {
        dev.whet.train.RunDir run = dev.whet.train.RunDir.open(candidate);
        if (dev.whet.train.JobConfig.read(run.jobYaml()).trainsDecoder()) return run.path();
      } catch (dev.whet.WhetException | java.io.UncheckedIOException e) {
        // not a run, or not this one
      }
    }
    return null;
  }

  /**
   * The model directory when {@code ref} names a fine-tuned sentence-embedding model, else null.
   */
  private static Path embeddingModel(String ref) {
    try {
      Path dir = ModelRef.resolve(ref).dir();
      var w = dir.resolve("whet.json");
      return java.nio.file.Files.isRegularFile(w)
              && dev.whet.data.Task.parse(
                      Json.MAPPER.readTree(w.toFile()).path("task").asText("classify"))
                  .embeds()
          ? dir
          : null;
    } catch (java.io.IOException | dev.whet.WhetException e) {
      return null;
    }
  }

  static void printEntities(EntityEvaluation.Result r) {
    System.out.printf(
        Locale.ROOT, "%d test sentences, %d entity types%n%n", r.n(), r.types().size());
    System.out.printf(
        "  %-44s %20s %9s %9s%n", "system", "entity F1 [95% CI]", "precision", "recall");
    for (EntityEvaluation.SystemScores s : r.baselines().values()) {
      System.out.printf(
          Locale.ROOT,
          "  %-44s %6.3f [%.3f,%.3f] %9.3f %9.3f%n",
          s.description(),
          s.entityF1(),
          s.entityF1Interval().low(),
          s.entityF1Interval().high(),
          s.entityPrecision(),
          s.entityRecall());
    }
    System.out.printf(
        "%n  %-20s %9s %9s %9s %8s%n", "type", "precision", "recall", "F1", "support");
    r.perType()
        .values()
        .forEach(
            t ->
                System.out.printf(
                    Locale.ROOT,
                    "  %-20s %9.3f %9.3f %9.3f %8d%n",
                    t.type(),
                    t.precision(),
                    t.recall(),
                    t.f1(),
                    t.support()));
    System.out.println();
    printVerdict(r.headline(), r.verdict());
    printForgetting(r.forgetting());
  }

  /** The headline in one line, then the verdict's sentences. */
  private static void printVerdict(dev.whet.eval.Verdict.Headline headline, String verdict) {
    if (headline != null) {
      System.out.println(headline.sentence());
    }
    System.out.println(verdict);
  }

  private static void printForgetting(dev.whet.eval.ForgettingCheck f) {
    if (f != null) {
      System.out.printf(
          Locale.ROOT,
          "%nGeneral ability (%s): %.3f before, %.3f after%s%n",
          f.task(),
          f.before(),
          f.after(),
          f.flagged() ? " — DROP beyond the threshold: the model forgot general similarity" : "");
    }
  }

  static void print(EvalResult r) {
    System.out.printf(Locale.ROOT, "%d test examples, %d labels%n%n", r.n(), r.labels().size());
    System.out.printf("  %-52s %18s %18s%n", "system", "accuracy [95% CI]", "macro-F1 [95% CI]");
    for (SystemResult s : r.baselines().values()) {
      System.out.printf(
          Locale.ROOT,
          "  %-52s %6.3f [%.3f,%.3f] %6.3f [%.3f,%.3f]%n",
          s.description(),
          s.accuracy(),
          s.accuracyInterval().low(),
          s.accuracyInterval().high(),
          s.f1Macro(),
          s.f1MacroInterval().low(),
          s.f1MacroInterval().high());
    }
    if (r.multiLabel() != null) {
      System.out.printf(
          "%n  (multi-label: accuracy is subset accuracy, macro-F1 is over labels; thresholds: %s)",
          r.multiLabel().thresholds());
      r.multiLabel()
          .systems()
          .forEach(
              (name, m) ->
                  System.out.printf(
                      Locale.ROOT,
                      "%n  %s: micro-F1 %.3f [%.3f,%.3f], Hamming loss %.3f",
                      name,
                      m.microF1(),
                      m.microF1Interval().low(),
                      m.microF1Interval().high(),
                      m.hammingLoss()));
    }
    for (SystemResult s : r.baselines().values()) {
      if (s.setting() != null) {
        System.out.printf("%n  %s: %s", s.name(), s.setting());
      }
    }
    System.out.println();
    System.out.println();
    printVerdict(r.headline(), r.verdict());
    printForgetting(r.forgetting());
  }
}
