package dev.whet.train;

import dev.whet.WhetException;
import dev.whet.data.ClassificationExample;
import dev.whet.data.DataOptions;
import dev.whet.data.DataStats;
import dev.whet.data.Dataset;
import dev.whet.data.Example;
import dev.whet.data.Task;
import dev.whet.engine.Engine;
import dev.whet.eval.RunEvaluation;
import dev.whet.io.Atomic;
import dev.whet.io.ModelCatalog;
import dev.whet.model.ClassifierModel;
import dev.whet.model.Lora;
import dev.whet.model.Pooling;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.bytedeco.pytorch.global.torch;

/**
 * A training run from a job: reads and checks the data, records the resolved job and data
 * statistics in the run directory, builds the model, trains, and evaluates the test set. The CLI
 * and the service both start runs here.
 */
public final class Training {
  private Training() {}

  /** Starts a new run. */
  public static TrainResult start(JobConfig job, List<TrainerListener> listeners) {
    job.validate();
    Inputs in = Inputs.load(job);
    JobConfig resolved = job.resolve(in.train.size(), Engine.cpuHasNativeBf16());
    RunDir run = RunDir.create(resolved.out);
    resolved.out = run.path().toString();
    resolved.write(run.jobYaml());
    writeDataStats(resolved, in, run);
    return run(resolved, in, run, null, listeners);
  }

  /** Continues a run from its last checkpoint, exactly where it stopped. */
  public static TrainResult resume(String runDirOrId, List<TrainerListener> listeners) {
    RunDir run = RunDir.open(runDirOrId);
    if (Files.isRegularFile(run.model().resolve("whet.json"))) {
      throw new WhetException(
          run.path() + ": this run already finished; its model is in " + run.model());
    }
    JobConfig resolved = JobConfig.read(run.jobYaml());
    Inputs in = Inputs.load(resolved);
    List<Path> saved = run.checkpoints();
    Checkpoint from = saved.isEmpty() ? null : Checkpoint.read(saved.get(saved.size() - 1));
    return run(resolved, in, run, from, listeners);
  }

  private static TrainResult run(
      JobConfig job, Inputs in, RunDir run, Checkpoint from, List<TrainerListener> listeners) {
    Engine.init();
    if (job.threads > 0) {
      torch.set_num_threads(job.threads);
    }
    torch.manual_seed(job.seed);
    Lora lora =
        job.method.equals("lora")
            ? new Lora(job.lora.rank, job.lora.alpha, job.lora.dropout, job.lora.targets)
            : null;
    Pooling.Mode pooling =
        job.pooling.equals("auto")
            ? null
            : Pooling.Mode.valueOf(job.pooling.toUpperCase(Locale.ROOT));
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("base", job.base);
    TrainResult result;
    try (ClassifierModel model =
        ClassifierModel.fromBase(
            in.baseDir, job.task, in.labels, job.maxLength, job.dropout, pooling, lora, info)) {
      EncodedSet train = in.encode(model, in.train);
      EncodedSet val = in.val == null ? null : in.encode(model, in.val);
      List<TrainerListener> all = new ArrayList<>();
      all.add(run.logger());
      all.addAll(listeners);
      Trainer trainer = new Trainer(job, run, model, train, val, all);
      MemoryEstimate.of(
              model.config(),
              trainer.totalParameters(),
              trainer.trainableParameters(),
              job.batchSize,
              model.tokenizer().maxLength(),
              job.precision.equals("bf16"))
          .check(MemoryEstimate.available(), job);
      result = trainer.train(from);
      if (in.test != null) {
        Map<String, Double> test = trainer.evaluate(in.encode(model, in.test));
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", result.steps());
        test.forEach((k, v) -> line.put("test_" + k, v));
        RunDir.appendJson(run.metrics(), line);
        result = result.withTest(test);
      }
    }
    // The model is closed: evaluation loads the saved one, exactly what users will get.
    if (job.evaluate && (job.test != null || job.val != null)) {
      for (TrainerListener l : listeners) {
        l.onEvent(
            "evaluating",
            "scoring the model and its cheaper alternatives on "
                + (job.test != null ? job.test : job.val));
      }
      var options =
          new RunEvaluation.Options(
              Path.of(job.test != null ? job.test : job.val), true, null, true);
      result =
          result.withEvaluation(
              RunEvaluation.run(
                  run.model(),
                  run.path(),
                  options,
                  m -> listeners.forEach(l -> l.onEvent("evaluating", m))));
    }
    return result;
  }

  private static void writeDataStats(JobConfig job, Inputs in, RunDir run) {
    DataStats stats =
        DataStats.compute(
            Path.of(job.train),
            in.options,
            in.baseDir.resolve("tokenizer.json"),
            job.maxLength,
            job.val == null ? null : Path.of(job.val));
    Atomic.writeString(run.path().resolve("data_stats.json"), stats.toJson().toPrettyString());
  }

  /** The job's data, checked, with one label set across splits. */
  private record Inputs(
      Path baseDir,
      DataOptions options,
      List<String> labels,
      List<ClassificationExample> train,
      List<ClassificationExample> val,
      List<ClassificationExample> test) {

    static Inputs load(JobConfig job) {
      Task task =
          switch (job.task) {
            case "multilabel" -> Task.MULTI_LABEL;
            case "pair" -> Task.PAIR_CLASSIFICATION;
            default -> Task.CLASSIFICATION;
          };
      DataOptions options =
          DataOptions.defaults().withTask(task).withColumns(job.textColumn, null, job.labelColumn);
      Path baseDir = ModelCatalog.resolve(job.base);
      List<ClassificationExample> train = examples(job.train, options);
      TreeSet<String> labels = new TreeSet<>();
      train.forEach(e -> labels.addAll(e.labels()));
      if (labels.size() < 2 && task != Task.MULTI_LABEL) {
        throw new WhetException(
            job.train + ": a classifier needs at least two labels; found " + labels);
      }
      List<ClassificationExample> val = job.val == null ? null : examples(job.val, options);
      List<ClassificationExample> test = job.test == null ? null : examples(job.test, options);
      for (var split : new Object[][] {{job.val, val}, {job.test, test}}) {
        @SuppressWarnings("unchecked")
        List<ClassificationExample> examples = (List<ClassificationExample>) split[1];
        if (examples == null) {
          continue;
        }
        for (ClassificationExample e : examples) {
          for (String l : e.labels()) {
            if (!labels.contains(l)) {
              throw new WhetException(
                  split[0]
                      + ":"
                      + e.line()
                      + ": label '"
                      + l
                      + "' never occurs in the training data — the model cannot learn it; add"
                      + " training examples for it or remove it from this file");
            }
          }
        }
      }
      return new Inputs(baseDir, options, List.copyOf(labels), train, val, test);
    }

    static List<ClassificationExample> examples(String file, DataOptions options) {
      Dataset d = Dataset.load(Path.of(file), options);
      List<ClassificationExample> out = new ArrayList<>();
      for (Example e : d.examples()) {
        out.add((ClassificationExample) e);
      }
      return out;
    }

    EncodedSet encode(ClassifierModel model, List<ClassificationExample> examples) {
      List<String> texts = new ArrayList<>();
      List<String> pairs = new ArrayList<>();
      int[][] y = new int[examples.size()][];
      boolean anyPair = false;
      for (int i = 0; i < y.length; i++) {
        ClassificationExample e = examples.get(i);
        texts.add(e.text());
        pairs.add(e.textPair() == null ? "" : e.textPair());
        anyPair |= e.textPair() != null;
        y[i] = e.labels().stream().mapToInt(labels::indexOf).toArray();
      }
      return EncodedSet.of(model.tokenizer(), texts, anyPair ? pairs : null, y, labels.size());
    }
  }
}
