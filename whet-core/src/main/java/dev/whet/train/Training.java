package dev.whet.train;

import dev.whet.WhetException;
import dev.whet.data.ClassificationExample;
import dev.whet.data.DataOptions;
import dev.whet.data.DataStats;
import dev.whet.data.Dataset;
import dev.whet.data.EmbeddingPairExample;
import dev.whet.data.Example;
import dev.whet.data.PreferenceExample;
import dev.whet.data.SimilarityExample;
import dev.whet.data.Splitter;
import dev.whet.data.Task;
import dev.whet.data.TokenExample;
import dev.whet.engine.Collective;
import dev.whet.engine.Engine;
import dev.whet.eval.PreferenceEvaluation;
import dev.whet.eval.RunEvaluation;
import dev.whet.eval.SftEvaluation;
import dev.whet.infer.LanguageModel;
import dev.whet.io.Atomic;
import dev.whet.io.ChatTemplate;
import dev.whet.io.ModelCatalog;
import dev.whet.io.Tokenizer;
import dev.whet.model.ClassifierModel;
import dev.whet.model.DecoderFiles;
import dev.whet.model.EmbeddingModel;
import dev.whet.model.LlamaConfig;
import dev.whet.model.LlamaModel;
import dev.whet.model.Lora;
import dev.whet.model.ModelRef;
import dev.whet.model.Pooling;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
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
    return start(job, null, listeners);
  }

  /**
   * Starts a new run as one rank of a data-parallel {@code group} (null: one process). Rank 0 makes
   * the run directory and tells {@code listeners}; another rank keeps its copy of the job in a
   * scratch directory it deletes at the end, and tells no one.
   */
  public static TrainResult start(
      JobConfig job, Collective group, List<TrainerListener> listeners) {
    job.validate();
    refuseParallel(job, group);
    if (group == null || group.rank() == 0) {
      return startRun(job, group, listeners);
    }
    Path scratch;
    try {
      scratch = java.nio.file.Files.createTempDirectory("whet-rank" + group.rank() + "-");
    } catch (java.io.IOException e) {
      throw new WhetException("cannot create a scratch directory (" + e.getMessage() + ")", e);
    }
    JobConfig mine = job.copy();
    mine.out = scratch.resolve("run").toString();
    try {
      return startRun(mine, group, List.of());
    } finally {
      try {
        dev.whet.io.DiskFiles.delete(scratch);
      } catch (java.io.IOException e) {
        // a scratch directory left in the system's temp is no reason to fail the run
      }
    }
  }

  /** A job that cannot be split over ranks ({@link JobConfig#whyNotDataParallel}) is refused. */
  private static void refuseParallel(JobConfig job, Collective group) {
    String why = job.whyNotDataParallel();
    if (group != null && group.world() > 1 && why != null) {
      throw new WhetException(
          "data-parallel training (--world-size "
              + group.world()
              + ") covers classifiers, taggers, sft and dpo; "
              + why
              + ": train this job in one process");
    }
  }

  private static TrainResult startRun(
      JobConfig job, Collective group, List<TrainerListener> listeners) {
    job = holdOut(job, listeners);
    if (job.trainsDecoder()) {
      job = mergedBase(job, listeners);
      SftInputs in = SftInputs.load(job);
      NewRun started = newRun(job, in.train.size(), in.baseDir, group, listeners);
      JobConfig resolved = started.job();
      RunDir run = started.run();
      DataStats stats =
          DataStats.compute(
              Path.of(resolved.train),
              DataOptions.defaults(),
              in.baseDir.resolve("tokenizer.json"),
              resolved.maxLength,
              resolved.val == null ? null : Path.of(resolved.val));
      Atomic.writeString(run.path().resolve("data_stats.json"), stats.toJson().toPrettyString());
      return runDecoder(resolved, in, run, null, group, listeners);
    }
    if (job.trainsEmbeddings()) {
      EmbedInputs in = EmbedInputs.load(job);
      NewRun started = newRun(job, in.train.size(), in.baseDir, null, listeners);
      writeDataStats(started.job(), in.baseDir, DataOptions.defaults(), started.run());
      return runEmbeddings(started.job(), in, started.run(), null, listeners);
    }
    Inputs in = Inputs.load(job);
    NewRun started = newRun(job, in.train.size(), in.baseDir, group, listeners);
    writeDataStats(started.job(), in.baseDir, in.options, started.run());
    return run(started.job(), in, started.run(), null, group, listeners);
  }

  /**
   * A job with neither a validation nor a test file and a {@code holdout} share: its run directory
   * made now, holding data/train.jsonl and data/validation.jsonl split from the training file, and
   * the job reading them. Anything else: the job as it is.
   */
  private static JobConfig holdOut(JobConfig job, List<TrainerListener> listeners) {
    if (!(job.holdout > 0) || job.val != null || job.test != null || !job.evaluate) {
      return job; // with evaluation off, nobody asked to measure: every example trains
    }
    if (!job.trainsDecoder() && !job.trainsEmbeddings()) {
      Inputs.load(job); // the user's file checked as given: errors name it, not the split
    }
    DataOptions options = DataOptions.defaults();
    if (!job.trainsDecoder()) {
      options =
          options.withTask(Task.parse(job.task)).withColumns(job.textColumn, null, job.labelColumn);
    }
    RunDir run = RunDir.create(job.out);
    Path train = Path.of(job.train);
    Splitter.Result split =
        Splitter.holdOut(train, options, job.holdout, job.seed, run.path().resolve("data"));
    String message;
    JobConfig held = job.copy();
    held.out = run.path().toString();
    if (split == null) {
      message =
          String.format(
              Locale.ROOT,
              "No validation file, and %s is too small to hold %.0f%% of it out: the model will"
                  + " not be evaluated. Give a validation file to measure it.",
              train.getFileName(),
              100 * job.holdout);
    } else {
      held.train = split.train().file().toString();
      held.val = split.val().file().toString();
      held.textColumn = null; // the split files are Whet's JSONL, whatever the source's columns
      held.labelColumn = null;
      message =
          String.format(
              Locale.ROOT,
              "No validation file: held out %d of %d examples of %s (%.0f%%, stratified by"
                  + " label, duplicates kept together) to validate and evaluate on; training on"
                  + " the other %d",
              split.val().count(),
              split.val().count() + split.train().count(),
              train.getFileName(),
              100 * job.holdout,
              split.train().count());
    }
    run.logger().onEvent("holdout", message);
    listeners.forEach(l -> l.onEvent("holdout", message));
    return held;
  }

  /**
   * A decoder job whose base is a LoRA adapter (an SFT run, to go on with DPO): the adapter merged
   * into its base as a whole model in the run's {@code base/}, which the job then names, so that
   * training, resuming and the saved model all start from one plain model directory. Any other job
   * as it is.
   */
  private static JobConfig mergedBase(JobConfig job, List<TrainerListener> listeners) {
    ModelRef ref = ModelRef.resolve(job.base);
    if (!DecoderFiles.isAdapter(ref.dir())) {
      return job;
    }
    JobConfig merged = job.copy();
    RunDir run =
        job.out != null && Files.isDirectory(Path.of(job.out))
            ? new RunDir(Path.of(job.out)) // made by holdOut
            : RunDir.create(job.out);
    Path base = run.path().resolve("base");
    startEngine(job);
    try (LanguageModel adapter = LanguageModel.load(ref.dir())) {
      adapter.exportMerged(base);
    }
    merged.out = run.path().toString();
    merged.base = base.toString();
    String message = "starting from " + ref.dir() + " (its adapter merged into " + base + ")";
    run.logger().onEvent("base", message);
    listeners.forEach(l -> l.onEvent("base", message));
    return merged;
  }

  /** Continues a run from its last checkpoint, exactly where it stopped. */
  public static TrainResult resume(String runDirOrId, List<TrainerListener> listeners) {
    return resume(runDirOrId, null, listeners);
  }

  /**
   * Continues a run as one rank of a data-parallel {@code group} (null: one process), of any size:
   * every rank reads the run directory (shared), rank 0 alone writes it and tells {@code
   * listeners}.
   */
  public static TrainResult resume(
      String runDirOrId, Collective group, List<TrainerListener> listeners) {
    if (group != null && group.rank() != 0) {
      listeners = List.of();
    }
    RunDir run = RunDir.open(runDirOrId);
    if (run.finished()) {
      throw new WhetException(
          run.path() + ": this run already finished; its model is in " + run.model());
    }
    JobConfig resolved = JobConfig.read(run.jobYaml());
    refuseParallel(resolved, group);
    List<Path> saved = run.checkpoints();
    Checkpoint from = saved.isEmpty() ? null : Checkpoint.read(saved.get(saved.size() - 1));
    if (resolved.trainsDecoder()) {
      return runDecoder(resolved, SftInputs.load(resolved), run, from, group, listeners);
    }
    if (resolved.trainsEmbeddings()) {
      return runEmbeddings(resolved, EmbedInputs.load(resolved), run, from, listeners);
    }
    Inputs in = Inputs.load(resolved);
    return run(resolved, in, run, from, group, listeners);
  }

  /**
   * Writes checkpoint {@code step} of an encoder run (classifier, tagger, embeddings) as a model
   * directory, the way the run's own model/ is written (Hugging Face layout, LoRA merged), so that
   * a checkpoint can be served or downloaded like a model. The model is rebuilt from the run's job
   * and data as training built it, then given the checkpoint's weights.
   *
   * @return {@code out}
   */
  public static Path exportCheckpoint(Path runDir, long step, Path out) {
    RunDir run = RunDir.open(runDir.toString());
    Path checkpoint = run.checkpoint(step);
    if (!java.nio.file.Files.isDirectory(checkpoint)) {
      throw new WhetException(
          run.path()
              + ": no checkpoint at step "
              + step
              + "; it holds "
              + run.checkpoints().stream().map(RunDir::stepOf).toList());
    }
    JobConfig job = JobConfig.read(run.jobYaml());
    if (job.trainsDecoder() || job.method.equals("setfit")) {
      throw new WhetException(
          run.path()
              + ": checkpoints of "
              + (job.trainsDecoder() ? "sft" : "setfit")
              + " runs are not exported as models; use the run's model/");
    }
    startEngine(job);
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("base", job.base);
    info.put("checkpoint_step", step);
    dev.whet.io.DiskFiles.replaceDirectory(
        out,
        "checkpoint " + step + " as a model",
        dir -> {
          if (job.trainsEmbeddings()) {
            EmbedInputs in = EmbedInputs.load(job);
            info.put("task", job.task);
            info.put("score_scale", in.scoreScale);
            try (EmbeddingModel model =
                EmbeddingModel.fromBase(in.baseDir, job.maxLength, 0, 0, job.adapters(), info)) {
              EmbedTask task = new EmbedTask(model, in.pairs(model.tokenizer(), List.of()), null);
              Checkpoint.loadWeights(checkpoint, task.module());
              task.save(dir, job.plan(), info);
            }
            return;
          }
          Inputs in = Inputs.load(job);
          try (ClassifierModel model = classifier(job, in, false, info)) {
            EncoderTask task = in.task(model, job);
            Checkpoint.loadWeights(checkpoint, task.module());
            task.save(dir, job.plan(), info);
          }
        });
    return out;
  }

  /** A new run's resolved job and its directory, holding job.yaml. */
  private record NewRun(JobConfig job, RunDir run) {}

  /**
   * Resolves the job ({@code precision: auto} by measurement on this machine), creates its run
   * directory with job.yaml, and records there and with every listener why {@code auto} became the
   * precision it did.
   */
  private static NewRun newRun(
      JobConfig job,
      int trainExamples,
      Path baseDir,
      Collective group,
      List<TrainerListener> listeners) {
    AtomicReference<PrecisionChoice> chosen = new AtomicReference<>();
    JobConfig resolved =
        job.resolve(
            trainExamples,
            r -> {
              if (group != null && group.rank() != 0) {
                // Every rank trains in rank 0's precision, whatever this machine would measure.
                return group.sum(new double[] {0})[0] > 0 ? "bf16" : "fp32";
              }
              chosen.set(PrecisionChoice.forJob(r, baseDir));
              String p = chosen.get().precision();
              if (group != null) {
                group.sum(new double[] {p.equals("bf16") ? 1 : 0});
              }
              return p;
            });
    RunDir run = RunDir.create(resolved.out);
    resolved.out = run.path().toString();
    resolved.write(run.jobYaml());
    PrecisionChoice c = chosen.get();
    if (c != null) {
      run.logger().onEvent("precision", c.reason());
      listeners.forEach(l -> l.onEvent("precision", c.reason()));
    }
    return new NewRun(resolved, run);
  }

  /**
   * The classifier or tagger a job trains, built from its base with the job's head, pooling and
   * adapters; dropout only when {@code training} (a checkpoint read out for export has none).
   */
  private static ClassifierModel classifier(
      JobConfig job, Inputs in, boolean training, Map<String, Object> info) {
    return ClassifierModel.fromBase(
        in.baseDir,
        job.task,
        in.labels,
        job.maxLength,
        training ? job.dropout : 0,
        training ? job.attentionDropout : 0,
        pooling(job),
        job.adapters(),
        info);
  }

  /** The job's pooling: null for auto (the base model's own), else cls or mean. */
  private static Pooling pooling(JobConfig job) {
    return job.pooling.equals("auto")
        ? null
        : new Pooling(Pooling.Mode.valueOf(job.pooling.toUpperCase(Locale.ROOT)), false);
  }

  /**
   * Builds a model right after seeding, with no other training of this JVM drawing from the
   * process-wide generator in between, so that its new head and adapters are the seed's (ranks of a
   * group in one JVM, as tests run them, must start from the same weights).
   */
  private static final Object SEEDING = new Object();

  private static <T> T seeded(JobConfig job, java.util.function.Supplier<T> build) {
    synchronized (SEEDING) {
      startEngine(job);
      return build.get();
    }
  }

  /** Threads and seed before the model is built: the seed draws the new head and adapters. */
  private static void startEngine(JobConfig job) {
    Engine.init();
    Engine.threads(job.threadCount());
    torch.manual_seed(job.seed);
  }

  private static TrainResult run(
      JobConfig job,
      Inputs in,
      RunDir run,
      Checkpoint from,
      Collective group,
      List<TrainerListener> listeners) {
    boolean leader = group == null || group.rank() == 0;
    if (job.method.equals("setfit")) {
      startEngine(job);
      return evaluateAtEnd(
          job,
          run,
          SetFit.run(job, in.baseDir, in.labels, in.train, run, from, listeners),
          listeners);
    }
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("base", job.base);
    TrainResult result;
    try (ClassifierModel model = seeded(job, () -> classifier(job, in, true, info))) {
      List<TrainerListener> all = new ArrayList<>();
      if (leader) {
        all.add(run.logger());
        all.addAll(listeners);
      }
      TrainingPlan plan = job.plan();
      EncoderTask task = in.task(model, job);
      Trainer trainer = new Trainer(plan, run, task, all, group);
      MemoryEstimate.of(
              model.config(),
              trainer.totalParameters(),
              trainer.trainableParameters(),
              job.batchSize,
              model.tokenizer().maxLength(),
              job.precision.equals("bf16"))
          .check(MemoryEstimate.available(), job);
      result = trainer.train(from);
      if (!leader) {
        return result; // rank 0 tests, evaluates and writes
      }
      if (in.test != null) {
        Map<String, Double> test = in.evaluate(task, model, in.test, job);
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", result.steps());
        test.forEach((k, v) -> line.put("test_" + k, v));
        RunDir.appendJson(run.metrics(), line);
        result = result.withTest(test);
      }
    }
    return evaluateAtEnd(job, run, result, listeners);
  }

  /**
   * A classifier's or tagger's evaluation at the end of its run, on the test file (else the
   * validation file), against the cheaper alternatives. The model is closed by then: evaluation
   * loads the saved one, exactly what users will get.
   */
  private static TrainResult evaluateAtEnd(
      JobConfig job, RunDir run, TrainResult result, List<TrainerListener> listeners) {
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
      java.util.function.Consumer<String> log =
          m -> listeners.forEach(l -> l.onEvent("evaluating", m));
      if (job.tagsTokens()) {
        RunEvaluation.entities(run.model(), run.path(), options, log); // eval/ holds the result
      } else {
        result = result.withEvaluation(RunEvaluation.run(run.model(), run.path(), options, log));
      }
    }
    return result;
  }

  private static TrainResult runEmbeddings(
      JobConfig job, EmbedInputs in, RunDir run, Checkpoint from, List<TrainerListener> listeners) {
    startEngine(job);
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("task", job.task);
    info.put("base", job.base);
    info.put("score_scale", in.scoreScale);
    TrainResult result;
    try (EmbeddingModel model =
        EmbeddingModel.fromBase(
            in.baseDir, job.maxLength, job.dropout, job.attentionDropout, job.adapters(), info)) {
      List<TrainerListener> all = new ArrayList<>();
      all.add(run.logger());
      all.addAll(listeners);
      TrainingPlan plan = job.plan();
      EmbedTask task =
          new EmbedTask(
              model,
              in.pairs(model.tokenizer(), in.train),
              in.val == null ? null : in.pairs(model.tokenizer(), in.val));
      Trainer trainer = new Trainer(plan, run, task, all);
      result = trainer.train(from);
      if (in.test != null) {
        Map<String, Double> test = task.evaluate(in.pairs(model.tokenizer(), in.test), plan.bf16());
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", result.steps());
        test.forEach((k, v) -> line.put("test_" + k, v));
        RunDir.appendJson(run.metrics(), line);
        result = result.withTest(test);
      }
    }
    if (job.evaluate && (job.test != null || job.val != null)) {
      String file = job.test != null ? job.test : job.val;
      listeners.forEach(
          l -> l.onEvent("evaluating", "scoring the tuned embeddings against the base on " + file));
      RunEvaluation.embeddings(
          run.model(),
          run.path(),
          new RunEvaluation.Options(Path.of(file), false, null, true),
          m -> listeners.forEach(l -> l.onEvent("evaluating", m)));
    }
    return result;
  }

  /** Pairs or graded pairs for sentence-embedding fine-tuning. */
  private record EmbedInputs(
      Path baseDir,
      Task task,
      double scoreScale,
      List<Example> train,
      List<Example> val,
      List<Example> test) {
    static EmbedInputs load(JobConfig job) {
      Task task = Task.parse(job.task);
      Path baseDir = ModelCatalog.resolve(job.base);
      List<Example> train = records(job.train, task);
      double scale = 1;
      if (task == Task.SIMILARITY) {
        // Scores are read on the training file's scale (STS-B: 0 to 5) and trained as [0, 1].
        for (Example e : train) scale = Math.max(scale, ((SimilarityExample) e).score());
      }
      return new EmbedInputs(
          baseDir,
          task,
          scale,
          train,
          job.val == null ? null : records(job.val, task),
          job.test == null ? null : records(job.test, task));
    }

    static List<Example> records(String file, Task task) {
      return checkedRecords(
          file,
          DataOptions.defaults().withTask(task),
          t -> t == task,
          "--task "
              + task.cliName()
              + (task == Task.SIMILARITY
                  ? " trains on sentence1/sentence2/score records"
                  : " trains on anchor/positive[/negative] records"));
    }

    EmbedTask.Pairs pairs(Tokenizer tok, List<Example> records) {
      List<String> a = new ArrayList<>();
      List<String> b = new ArrayList<>();
      List<String> negatives = new ArrayList<>();
      double[] scores = task == Task.SIMILARITY ? new double[records.size()] : null;
      boolean anyNegative = false;
      for (int i = 0; i < records.size(); i++) {
        if (records.get(i) instanceof SimilarityExample s) {
          a.add(s.sentence1());
          b.add(s.sentence2());
          scores[i] = Math.max(0, Math.min(1, s.score() / scoreScale));
        } else {
          EmbeddingPairExample p = (EmbeddingPairExample) records.get(i);
          a.add(p.anchor());
          b.add(p.positive());
          negatives.add(p.negative());
          anyNegative |= p.negative() != null;
        }
      }
      return EmbedTask.Pairs.of(tok, a, b, anyNegative ? negatives : null, scores);
    }
  }

  /**
   * Trains a decoder: supervised fine-tuning, or DPO on preference pairs; then its test loss and,
   * when asked, the held-out evaluation. In a data-parallel {@code group}, rank 0 alone tests,
   * evaluates and writes.
   */
  private static TrainResult runDecoder(
      JobConfig job,
      SftInputs in,
      RunDir run,
      Checkpoint from,
      Collective group,
      List<TrainerListener> listeners) {
    boolean leader = group == null || group.rank() == 0;
    Lora lora = job.adapters();
    boolean bf16 = job.precision.equals("bf16");
    LlamaModel model = seeded(job, () -> LlamaModel.load(in.baseDir, lora));
    Decoder d = Decoder.of(in.baseDir, job);
    TrainResult result;
    try {
      List<TrainerListener> all = new ArrayList<>();
      if (leader) {
        all.add(run.logger());
        all.addAll(listeners);
      }
      TrainTask task;
      if (job.tunesPreferences()) {
        all.forEach(
            l ->
                l.onEvent(
                    "reference",
                    "scoring the " + in.train.size() + " training pairs with the reference model"));
        task =
            new DpoTask(
                model,
                lora,
                in.baseDir,
                d.pairs(in.train),
                in.val == null ? null : d.pairs(in.val),
                d.padId,
                job.dpo.beta,
                bf16);
      } else {
        task =
            new SftTask(
                model,
                lora,
                in.baseDir,
                d.encode(in.train),
                in.val == null ? null : d.encode(in.val),
                d.padId,
                job.sft.packing ? d.maxLength : 0);
      }
      result = new Trainer(job.plan(), run, task, all, group).train(from);
      if (!leader) {
        return result; // rank 0 tests, evaluates and writes
      }
      if (in.test != null && !job.tunesPreferences()) { // DPO's test pairs: the evaluation
        double loss = SftTask.meanLoss(model, d.encode(in.test), d.padId, bf16)[0];
        Map<String, Double> test = new LinkedHashMap<>();
        test.put("loss", loss);
        test.put("perplexity", Math.exp(loss));
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", result.steps());
        test.forEach((k, v) -> line.put("test_" + k, v));
        RunDir.appendJson(run.metrics(), line);
        result = result.withTest(test);
      }
    } finally {
      d.tokenizer.close();
      model.close(); // its weights, now: the evaluation below loads the saved model
    }
    List<Example> heldOut = in.test != null ? in.test : in.val;
    if (job.evaluate && heldOut != null) {
      listeners.forEach(
          l ->
              l.onEvent(
                  "evaluating",
                  "scoring the fine-tuned model against its base on "
                      + (in.test != null ? job.test : job.val)));
      evaluateSft(
          job,
          in.baseDir,
          in.test != null ? job.test : job.val,
          run,
          in.train,
          heldOut,
          bf16,
          m -> listeners.forEach(l -> l.onEvent("evaluating", m)));
    }
    return result;
  }

  /**
   * {@code whet eval} on a decoder run: its end-of-run evaluation again, on {@code data} — held-out
   * loss and perplexity and scored generations for the base and the tuned model, the generative
   * baselines, and the forgetting check — written to the run's eval/ as training writes it.
   *
   * @param train the few-shot examples of the baselines, or null for the run's training file
   * @param settings changes the run's job for this evaluation (its {@code sft} baselines, shots,
   *     system prompt, documents, generations)
   */
  public static void evaluateSftRun(
      Path runDir,
      Path data,
      Path train,
      java.util.function.Consumer<JobConfig> settings,
      java.util.function.Consumer<String> log) {
    RunDir run = RunDir.open(runDir.toString());
    JobConfig job = JobConfig.read(run.jobYaml());
    settings.accept(job);
    if (!job.trainsDecoder()) {
      throw new WhetException(
          run.path() + ": not a decoder (sft or dpo) run (its task is " + job.task + ")");
    }
    String pool = train != null ? train.toString() : job.train;
    if (job.sft.baselines && !Files.isRegularFile(Path.of(pool))) {
      throw new WhetException(
          pool
              + ": the run's training file is gone; the few-shot baselines need training"
              + " examples (give --train FILE)");
    }
    startEngine(job);
    evaluateSft(
        job,
        ModelCatalog.resolve(job.base),
        data.toString(),
        run,
        job.sft.baselines ? SftInputs.records(pool, job) : null,
        SftInputs.records(data.toString(), job),
        job.precision.equals("bf16"),
        log);
  }

  /**
   * Held-out and general-text loss, before (base) and after (the saved model, as users get it),
   * greedy generations on a sample of held-out prompts and, with {@code sft.baselines}, the
   * comparison with prompting the base model ({@link GenerativeBaselines}).
   *
   * @param train the few-shot pool of the baselines
   */
  private static void evaluateSft(
      JobConfig job,
      Path baseDir,
      String heldOutFile,
      RunDir run,
      List<Example> train,
      List<Example> heldOut,
      boolean bf16,
      java.util.function.Consumer<String> log) {
    try (LanguageModel base = LanguageModel.load(baseDir);
        LanguageModel tuned = LanguageModel.load(run.model())) {
      Decoder d = Decoder.of(baseDir, job);
      List<SftEncoding.Example> held = d.encode(heldOut);
      SftEvaluation.Losses heldLoss =
          new SftEvaluation.Losses(
              SftTask.meanLoss(base.model(), held, d.padId, bf16)[0],
              SftTask.meanLoss(tuned.model(), held, d.padId, bf16)[0]);
      List<SftEncoding.Example> general = new ArrayList<>();
      for (String text : SftEvaluation.generalTexts()) {
        long[] ids = d.tokenizer.encode(text);
        ids = java.util.Arrays.copyOf(ids, Math.min(ids.length, d.maxLength));
        general.add(new SftEncoding.Example(ids, ids));
      }
      SftEvaluation.Losses generalLoss =
          new SftEvaluation.Losses(
              SftTask.meanLoss(base.model(), general, d.padId, bf16)[0],
              SftTask.meanLoss(tuned.model(), general, d.padId, bf16)[0]);
      Map<String, Object> preference = null;
      if (job.tunesPreferences()) {
        List<DpoTask.Pair> pairs = d.pairs(heldOut);
        preference =
            PreferenceEvaluation.of(
                DpoTask.logProbs(base.model(), pairs, d.padId, bf16),
                DpoTask.logProbs(tuned.model(), pairs, d.padId, bf16),
                job.dpo.beta);
      }
      Map<String, Object> baselines = null;
      if (job.sft.baselines && train != null) {
        baselines =
            GenerativeBaselines.run(
                base,
                tuned,
                d.eosId,
                train,
                heldOut,
                new GenerativeBaselines.Options(
                    job.sft.systemPrompt,
                    job.sft.shots,
                    job.sft.documents == null
                        ? null
                        : GenerativeBaselines.readDocuments(Path.of(job.sft.documents)),
                    job.sft.generateEval,
                    job.sft.maxNewTokens,
                    job.seed),
                bf16,
                log);
      }
      List<SftEvaluation.Sample> samples = new ArrayList<>();
      for (Example e : heldOut.subList(0, Math.min(job.sft.generateEval, heldOut.size()))) {
        SftData.Prompt p = SftData.prompt(d.tokenizer, d.template, e);
        if (p.ids().length + job.sft.maxNewTokens <= base.model().maxContext()) {
          samples.add(new SftEvaluation.Sample(p.ids(), p.text(), p.reference()));
        }
      }
      d.tokenizer.close();
      SftEvaluation.run(
          run.path(),
          job.task,
          base,
          tuned,
          heldOutFile,
          heldLoss,
          generalLoss,
          preference,
          baselines,
          samples,
          job.sft.maxNewTokens,
          log);
    }
  }

  /** A decoder's tokenizer, chat template and the ids SFT encoding needs. */
  private record Decoder(
      Tokenizer tokenizer,
      ChatTemplate template,
      SftEncoding encoding,
      long eosId,
      long padId,
      int maxLength) {
    static Decoder of(Path baseDir, JobConfig job) {
      LlamaConfig config = LlamaConfig.read(baseDir.resolve("config.json"));
      int maxLength = Math.min(job.maxLength, config.maxContext());
      Tokenizer tokenizer = Tokenizer.load(baseDir.resolve("tokenizer.json"), config.maxContext());
      ChatTemplate template = ChatTemplate.load(baseDir);
      long eos = config.eosTokenIds().isEmpty() ? -1 : config.eosTokenIds().get(0);
      if (template != null && !template.eosToken().isEmpty()) {
        long id = tokenizer.tokenId(template.eosToken());
        eos = id >= 0 ? id : eos;
      }
      if (eos < 0) {
        throw new WhetException(
            baseDir + "/config.json: no eos_token_id; SFT must know the token that ends an answer");
      }
      SftEncoding encoding =
          new SftEncoding(tokenizer, template, eos, job.sft.trainOnPrompt, maxLength);
      return new Decoder(
          tokenizer, template, encoding, eos, SftEncoding.padId(tokenizer, eos), maxLength);
    }

    List<DpoTask.Pair> pairs(List<Example> records) {
      List<DpoTask.Pair> out = new ArrayList<>(records.size());
      for (Example e : records) {
        out.add(SftData.pair(encoding, template, (PreferenceExample) e));
      }
      return out;
    }

    List<SftEncoding.Example> encode(List<Example> records) {
      List<SftEncoding.Example> out = new ArrayList<>(records.size());
      for (Example e : records) {
        out.add(SftData.encode(encoding, template, e));
      }
      return out;
    }
  }

  /**
   * A decoder job's records: prompt/completion, chat or instruction records for supervised
   * fine-tuning, preference pairs for DPO.
   */
  private record SftInputs(
      Path baseDir, List<Example> train, List<Example> val, List<Example> test) {
    static SftInputs load(JobConfig job) {
      Path baseDir = ModelCatalog.resolve(job.base);
      LlamaConfig.read(baseDir.resolve("config.json")); // a decoder, or a clear error
      return new SftInputs(
          baseDir,
          records(job.train, job),
          job.val == null ? null : records(job.val, job),
          job.test == null ? null : records(job.test, job));
    }

    static List<Example> records(String file, JobConfig job) {
      if (job.tunesPreferences()) {
        return checkedRecords(
            file,
            DataOptions.defaults(),
            t -> t == Task.PREFERENCE,
            "--task dpo trains on preference pairs ({prompt, chosen, rejected}, or OpenAI's"
                + " {input, preferred_output, non_preferred_output})");
      }
      return checkedRecords(
          file,
          DataOptions.defaults(),
          Task::generates,
          "--task sft trains on prompt/completion, chat (messages) or instruction (instruction,"
              + " input, output) records");
    }
  }

  /**
   * The records of a data file, checked to be of a kind the job trains on.
   *
   * @param fits whether the file's detected task suits the job
   * @param wants what the job trains on, for the error ("--task sft trains on …")
   */
  private static List<Example> checkedRecords(
      String file, DataOptions options, java.util.function.Predicate<Task> fits, String wants) {
    Dataset d = Dataset.load(Path.of(file), options);
    if (!fits.test(d.task())) {
      throw new WhetException(file + ": holds " + d.task().cliName() + " records; " + wants);
    }
    return d.examples();
  }

  private static void writeDataStats(JobConfig job, Path baseDir, DataOptions options, RunDir run) {
    DataStats stats =
        DataStats.compute(
            Path.of(job.train),
            options,
            baseDir.resolve("tokenizer.json"),
            job.maxLength,
            job.val == null ? null : Path.of(job.val));
    Atomic.writeString(run.path().resolve("data_stats.json"), stats.toJson().toPrettyString());
  }

  /** The job's data, checked, with one label (or tag) set across splits. */
  private record Inputs(
      Path baseDir,
      DataOptions options,
      Task task,
      List<String> labels,
      List<Example> train,
      List<Example> val,
      List<Example> test) {

    static Inputs load(JobConfig job) {
      Task task = Task.parse(job.task); // a classifier or token task: validated with the job
      DataOptions options =
          DataOptions.defaults().withTask(task).withColumns(job.textColumn, null, job.labelColumn);
      Path baseDir = ModelCatalog.resolve(job.base);
      List<Example> train = examples(job.train, options, task);
      TreeSet<String> labels = new TreeSet<>();
      train.forEach(e -> labels.addAll(e.labels()));
      if (labels.size() < 2 && task != Task.MULTI_LABEL) {
        throw new WhetException(
            job.train
                + (task == Task.TOKEN_CLASSIFICATION
                    ? ": a tagger needs at least two tags (O and an entity's B-); found "
                    : ": a classifier needs at least two labels; found ")
                + labels);
      }
      List<Example> val = job.val == null ? null : examples(job.val, options, task);
      List<Example> test = job.test == null ? null : examples(job.test, options, task);
      for (var split : new Object[][] {{job.val, val}, {job.test, test}}) {
        @SuppressWarnings("unchecked")
        List<Example> examples = (List<Example>) split[1];
        if (examples == null) {
          continue;
        }
        for (Example e : examples) {
          for (String l : e.labels()) {
            if (!labels.contains(l)) {
              throw new WhetException(
                  split[0]
                      + ":"
                      + e.line()
                      + ": "
                      + (task == Task.TOKEN_CLASSIFICATION ? "tag" : "label")
                      + " '"
                      + l
                      + "' never occurs in the training data — the model cannot learn it; add"
                      + " training examples for it or remove it from this file");
            }
          }
        }
      }
      List<String> ordered = new ArrayList<>(labels);
      if (task == Task.TOKEN_CLASSIFICATION) {
        if (job.labelAllSubtokens) {
          // A word's later sub-tokens learn I-T even where the data has only one-word T entities.
          for (String l : labels) {
            if (l.startsWith("B-") && !labels.contains("I-" + l.substring(2))) {
              ordered.add("I-" + l.substring(2));
            }
          }
        }
        // O first, as taggers conventionally number it, then B-/I- by type.
        ordered.sort(
            java.util.Comparator.comparing((String l) -> !l.equals("O"))
                .thenComparing(l -> l.length() > 2 ? l.substring(2) : l)
                .thenComparing(l -> l));
      }
      return new Inputs(baseDir, options, task, List.copyOf(ordered), train, val, test);
    }

    static List<Example> examples(String file, DataOptions options, Task task) {
      boolean tags = task == Task.TOKEN_CLASSIFICATION;
      return checkedRecords(
          file,
          options,
          t -> (t == Task.TOKEN_CLASSIFICATION) == tags,
          "--task "
              + task.cliName()
              + (tags
                  ? " trains on CoNLL files or tokens/tags records"
                  : " trains on text/label records"));
    }

    /** The training task on this data: per text or per token. */
    EncoderTask task(ClassifierModel model, JobConfig job) {
      if (task == Task.TOKEN_CLASSIFICATION) {
        return new TokenTask(
            model, tokens(model, train, job), val == null ? null : tokens(model, val, job));
      }
      return new ClassifierTask(
          model, encode(model, train), val == null ? null : encode(model, val));
    }

    /** The trained model's scores on a held-out set, as validation computes them. */
    Map<String, Double> evaluate(
        EncoderTask trained, ClassifierModel model, List<Example> set, JobConfig job) {
      boolean bf16 = job.precision.equals("bf16");
      return trained instanceof TokenTask t
          ? t.evaluate(tokens(model, set, job), bf16)
          : ((ClassifierTask) trained).evaluate(encode(model, set), bf16);
    }

    private TokenSet tokens(ClassifierModel model, List<Example> examples, JobConfig job) {
      List<TokenExample> sentences = new ArrayList<>(examples.size());
      examples.forEach(e -> sentences.add((TokenExample) e));
      return TokenSet.of(model.tokenizer(), sentences, labels, job.labelAllSubtokens);
    }

    EncodedSet encode(ClassifierModel model, List<Example> examples) {
      List<String> texts = new ArrayList<>();
      List<String> pairs = new ArrayList<>();
      int[][] y = new int[examples.size()][];
      boolean anyPair = false;
      for (int i = 0; i < y.length; i++) {
        ClassificationExample e = (ClassificationExample) examples.get(i);
        texts.add(e.text());
        pairs.add(e.textPair() == null ? "" : e.textPair());
        anyPair |= e.textPair() != null;
        y[i] = e.labels().stream().mapToInt(labels::indexOf).toArray();
      }
      return EncodedSet.of(model.tokenizer(), texts, anyPair ? pairs : null, y, labels.size());
    }
  }
}
