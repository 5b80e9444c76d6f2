package dev.whet.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.whet.WhetException;
import dev.whet.WhetHome;
import dev.whet.data.ClassificationExample;
import dev.whet.data.DataOptions;
import dev.whet.data.Dataset;
import dev.whet.data.Example;
import dev.whet.data.Task;
import dev.whet.data.TokenExample;
import dev.whet.io.Atomic;
import dev.whet.io.Json;
import dev.whet.io.ModelCatalog;
import dev.whet.model.ClassifierModel;
import dev.whet.model.Encoder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code whet eval}: scores a fine-tuned classifier on a labelled file, optionally beside the
 * cheaper alternatives (frozen-embedding baselines of its base model, TF-IDF + logistic
 * regression), checks that the encoder did not forget general sentence similarity, and writes
 * eval.json, report.html and predictions.jsonl.
 */
public final class RunEvaluation {
  private RunEvaluation() {}

  /**
   * @param data labelled test examples
   * @param baselines also score the baselines on the same split
   * @param train training examples for the baselines; null: the run's own (job.yaml)
   * @param forgetting run the general-ability check
   * @param base the model the evaluated one was fine-tuned from (name or directory), which the
   *     baselines on frozen embeddings and the forgetting check run on; null: the one whet.json
   *     records
   */
  public record Options(Path data, boolean baselines, Path train, boolean forgetting, String base) {
    public Options(Path data, boolean baselines, Path train, boolean forgetting) {
      this(data, baselines, train, forgetting, null);
    }
  }

  /**
   * @param modelDir a model saved by {@code whet train}
   * @param runDir the run it belongs to (eval/ is written there), or null
   * @param log progress messages
   */
  public static EvalResult run(Path modelDir, Path runDir, Options asked, Consumer<String> log) {
    Map<String, Double> timings = new LinkedHashMap<>();
    try (ClassifierModel model = ClassifierModel.load(modelDir)) {
      Options o = withKnownBase(model, modelDir, asked, log);
      if (model.multiLabel()) {
        return multiLabel(model, modelDir, runDir, o, log, timings);
      }
      DataOptions options = options(model.task(), runDir);
      List<ClassificationExample> test = examples(o.data, options);
      List<String> labels = model.labels();
      int[] gold = indices(test, labels, o.data);
      List<String> testTexts = test.stream().map(RunEvaluation::input).toList();

      long t = System.nanoTime();
      log.accept("predicting " + test.size() + " examples");
      float[][] probs = predict(model, test);
      double predictSeconds = (System.nanoTime() - t) / 1e9;
      timings.put("predict", predictSeconds);
      int[] pred = argmax(probs);
      double[][] p = doubles(probs);

      Path trainFile = o.train != null ? o.train : runFile(runDir, "train");
      List<ClassificationExample> train = trainingExamples(trainFile, o, options, labels);
      Evaluation ev =
          new Evaluation(
              labels,
              gold,
              testTexts,
              train.stream().map(RunEvaluation::input).toList(),
              indices(train, labels, trainFile));
      ev.add("fine_tuned", "Fine-tuned model", pred, p, predictSeconds);

      ForgettingCheck forgetting = null;
      if (o.baselines || o.forgetting) {
        try (Encoder baseEncoder = baseEncoder(model, o)) {
          if (o.baselines) {
            log.accept(
                "baselines: embedding "
                    + train.size()
                    + " training examples with the frozen base model");
            t = System.nanoTime();
            float[][] trainX = baseEncoder.embed(train.stream().map(RunEvaluation::input).toList());
            float[][] testX = baseEncoder.embed(testTexts);
            Path valFile = tuningFile(runDir, o.data);
            Evaluation.Validation validation = null;
            List<ClassificationExample> val = List.of();
            if (valFile != null) {
              val =
                  examples(valFile, options).stream()
                      .filter(e -> labels.containsAll(e.labels()))
                      .toList();
            }
            if (!val.isEmpty()) {
              List<String> valTexts = val.stream().map(RunEvaluation::input).toList();
              validation =
                  new Evaluation.Validation(
                      valTexts, indices(val, labels, valFile), baseEncoder.embed(valTexts));
            }
            timings.put("baseline_embeddings", (System.nanoTime() - t) / 1e9);
            log.accept(
                "baselines: tuning each on "
                    + (validation == null
                        ? "the training data (cross-validation)"
                        : "the validation file"));
            ev.addBaselines(trainX, testX, validation);
          }
          if (o.forgetting) {
            forgetting = timedForgetting(baseEncoder, model, timings, log);
          }
        }
      }
      JsonNode dataStats = runFacts(runDir, timings);
      EvalResult result =
          ev.result(
              runDir != null ? runDir.toString() : modelDir.toString(),
              "fine_tuned",
              forgetting,
              dataStats,
              timings);
      if (runDir != null) {
        writeReport(runDir, result);
        writePredictions(runDir.resolve("eval/predictions.jsonl"), test, labels, pred, probs);
      }
      return result;
    }
  }

  /**
   * A tagger ({@code task: tokens}) on a file of tagged sentences, beside the gazetteer and a
   * per-word linear probe on the frozen base model ({@link EntityEvaluation}); writes eval.json,
   * report.html and predictions.jsonl into the run's eval/.
   */
  public static EntityEvaluation.Result entities(
      Path modelDir, Path runDir, Options asked, Consumer<String> log) {
    Map<String, Double> timings = new LinkedHashMap<>();
    try (ClassifierModel model = ClassifierModel.load(modelDir)) {
      Options o = withKnownBase(model, modelDir, asked, log);
      List<String> labels = model.labels();
      List<TokenExample> test = tagged(o.data, labels);
      List<List<String>> words = test.stream().map(TokenExample::tokens).toList();
      List<List<String>> gold = test.stream().map(TokenExample::tags).toList();
      long t = System.nanoTime();
      log.accept("tagging " + test.size() + " sentences");
      List<List<String>> pred = model.bestTags(model.tagWords(model.encodeWords(words)));
      timings.put("predict", (System.nanoTime() - t) / 1e9);
      EntityEvaluation ev = new EntityEvaluation(words, gold, new Bootstrap());
      ev.add("fine_tuned", "Fine-tuned model", pred, timings.get("predict"), null);
      ForgettingCheck forgetting = null;
      if (o.baselines || o.forgetting) {
        try (Encoder base = baseEncoder(model, o)) {
          if (o.baselines) {
            Path trainFile = o.train != null ? o.train : runFile(runDir, "train");
            if (trainFile == null) {
              throw new WhetException(
                  "--baselines needs the training sentences: give --train FILE (or evaluate a"
                      + " run directory)");
            }
            entityBaselines(ev, base, tagged(trainFile, labels), words, runDir, o, log);
          }
          if (o.forgetting) {
            forgetting = timedForgetting(base, model, timings, log);
          }
        }
      }
      List<String> types =
          labels.stream()
              .filter(l -> l.length() > 2)
              .map(l -> l.substring(2))
              .distinct()
              .sorted()
              .toList();
      EntityEvaluation.Result result =
          ev.result(
              runDir != null ? runDir.toString() : modelDir.toString(),
              "fine_tuned",
              types,
              forgetting,
              runFacts(runDir, timings),
              timings);
      if (runDir != null) {
        ReportWriter.writeEntities(
            runDir.resolve("eval"), reportTitle(runDir), result, runLog(runDir), runConfig(runDir));
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < test.size(); i++) {
          Map<String, Object> row = new LinkedHashMap<>();
          row.put("line", test.get(i).line());
          row.put("tokens", words.get(i));
          row.put("gold", gold.get(i));
          row.put("tags", pred.get(i));
          b.append(Json.line(row)).append('\n');
        }
        Atomic.writeString(runDir.resolve("eval/predictions.jsonl"), b.toString());
      }
      return result;
    }
  }

  /**
   * A fine-tuned sentence-embedding model against its base on held-out pairs ({@link
   * EmbeddingEvaluation}): Spearman on graded pairs, retrieval recall@1/@10 and MRR on pairs, each
   * with bootstrap intervals and the paired difference; the forgetting check; eval.json and
   * report.html in the run's eval/.
   */
  public static com.fasterxml.jackson.databind.node.ObjectNode embeddings(
      Path modelDir, Path runDir, Options o, Consumer<String> log) {
    Map<String, Double> timings = new LinkedHashMap<>();
    JsonNode w = readJson(modelDir.resolve("whet.json"));
    if (w == null || !Task.parse(w.path("task").asText("classify")).embeds()) {
      throw new WhetException(
          modelDir
              + ": not a sentence-embedding model trained by `whet train --task embed|similarity`");
    }
    Task task = Task.parse(w.get("task").asText());
    int maxLength = w.path("max_length").asInt(0);
    try (Encoder tuned = Encoder.load(modelDir, maxLength);
        Encoder base =
            Encoder.load(
                ModelCatalog.resolve(
                    o.base() != null ? o.base() : w.path("base").asText(ModelCatalog.DEFAULT)),
                maxLength)) {
      List<Example> records =
          Dataset.load(o.data, DataOptions.defaults().withTask(task)).examples();
      EmbeddingEvaluation ev = new EmbeddingEvaluation(task, new Bootstrap());
      long t = System.nanoTime();
      log.accept(
          "embedding " + records.size() + " held-out pairs with the base and the tuned model");
      if (task == Task.SIMILARITY) {
        List<String> a = new ArrayList<>();
        List<String> b = new ArrayList<>();
        double[] gold = new double[records.size()];
        for (int i = 0; i < gold.length; i++) {
          var s = (dev.whet.data.SimilarityExample) records.get(i);
          a.add(s.sentence1());
          b.add(s.sentence2());
          gold[i] = s.score();
        }
        ev.similarity(gold, base.embed(a), base.embed(b), tuned.embed(a), tuned.embed(b));
      } else {
        List<String> a = new ArrayList<>();
        List<String> b = new ArrayList<>();
        for (Example e : records) {
          var p = (dev.whet.data.EmbeddingPairExample) e;
          a.add(p.anchor());
          b.add(p.positive());
        }
        ev.retrieval(base.embed(a), base.embed(b), tuned.embed(a), tuned.embed(b));
      }
      timings.put("embed_and_score", (System.nanoTime() - t) / 1e9);
      ForgettingCheck forgetting =
          o.forgetting ? timedForgetting(base, tuned::embed, timings, log) : null;
      var result =
          ev.result(
              runDir != null ? runDir.toString() : modelDir.toString(),
              forgetting,
              runFacts(runDir, timings),
              timings);
      if (runDir != null) {
        ReportWriter.writeEmbeddings(
            runDir.resolve("eval"),
            reportTitle(runDir),
            result,
            forgetting,
            runLog(runDir),
            runConfig(runDir));
      }
      return result;
    }
  }

  /** C of the per-word probe, chosen on held-out sentences. */
  private static final double[] WORD_PROBE_C = {0.1, 1, 10};

  /**
   * The gazetteer and the per-word linear probe on the frozen base model; the probe's C is chosen
   * on the run's validation file, else on every fifth training sentence, then refitted on all the
   * training sentences.
   */
  private static void entityBaselines(
      EntityEvaluation ev,
      Encoder base,
      List<TokenExample> train,
      List<List<String>> testWords,
      Path runDir,
      Options o,
      Consumer<String> log) {
    List<List<String>> trainWords = train.stream().map(TokenExample::tokens).toList();
    List<List<String>> trainTags = train.stream().map(TokenExample::tags).toList();
    long t = System.nanoTime();
    Gazetteer gazetteer = Gazetteer.fit(trainWords, trainTags);
    List<List<String>> gazetteerTags = testWords.stream().map(gazetteer::tag).toList();
    ev.add(
        "gazetteer",
        "Gazetteer: every training entity, longest match",
        gazetteerTags,
        (System.nanoTime() - t) / 1e9,
        gazetteer.size() + " entity strings from the training data, case-insensitive");

    log.accept(
        "baselines: word vectors of "
            + train.size()
            + " training sentences from the frozen base model");
    t = System.nanoTime();
    List<String> tags = new ArrayList<>(new java.util.TreeSet<>(flatten(trainTags)));
    float[][][] trainX =
        base.wordVectors(ClassifierModel.encodeWords(base.tokenizer(), trainWords));
    float[][][] testX = base.wordVectors(ClassifierModel.encodeWords(base.tokenizer(), testWords));
    Path valFile = tuningFile(runDir, o.data);
    List<TokenExample> val = valFile == null ? List.of() : tagged(valFile, tags);
    float[][][] tuneX;
    List<List<String>> tuneTags;
    int[] fitRows;
    String how;
    if (!val.isEmpty()) {
      List<List<String>> valWords = val.stream().map(TokenExample::tokens).toList();
      tuneX = base.wordVectors(ClassifierModel.encodeWords(base.tokenizer(), valWords));
      tuneTags = val.stream().map(TokenExample::tags).toList();
      fitRows = java.util.stream.IntStream.range(0, train.size()).toArray();
      how = "chosen by entity F1 on the validation file";
    } else {
      fitRows = java.util.stream.IntStream.range(0, train.size()).filter(i -> i % 5 != 4).toArray();
      int[] held =
          java.util.stream.IntStream.range(0, train.size()).filter(i -> i % 5 == 4).toArray();
      tuneX = Tuning.pick(trainX, held);
      tuneTags = Tuning.pick(trainTags, held);
      how = "chosen by entity F1 on every fifth training sentence";
    }
    double bestC = WORD_PROBE_C[0];
    double bestF1 = -1;
    LogisticRegression best = null;
    LogisticRegression warm = null; // C grows: each fit starts from the last
    for (double c : WORD_PROBE_C) {
      warm = fitWords(Tuning.pick(trainX, fitRows), Tuning.pick(trainTags, fitRows), tags, c, warm);
      double f1 = EntityMetrics.score(tuneTags, tagWith(warm, tuneX, tags)).f1();
      if (f1 > bestF1 + 1e-12) {
        bestF1 = f1;
        bestC = c;
        best = warm;
      }
    }
    // Tuned on the validation file, the chosen fit already saw every training sentence.
    LogisticRegression probe =
        fitRows.length == train.size() ? best : fitWords(trainX, trainTags, tags, bestC, best);
    ev.add(
        "linear_probe",
        "Base model word vectors, linear probe",
        tagWith(probe, testX, tags),
        (System.nanoTime() - t) / 1e9,
        "logistic regression on each word's first sub-token vector, C="
            + Baselines.number(bestC)
            + " "
            + how);
  }

  private static List<String> flatten(List<List<String>> lists) {
    List<String> out = new ArrayList<>();
    lists.forEach(out::addAll);
    return out;
  }

  /** A multinomial logistic regression from word vectors to tags. */
  private static LogisticRegression fitWords(
      float[][][] x, List<List<String>> y, List<String> tags, double c, LogisticRegression warm) {
    List<float[]> rows = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    for (int s = 0; s < x.length; s++) {
      for (int w = 0; w < x[s].length; w++) {
        rows.add(x[s][w]);
        labels.add(tags.indexOf(y.get(s).get(w)));
      }
    }
    return LogisticRegression.fit(
        SparseMatrix.fromDense(rows.toArray(float[][]::new)),
        labels.stream().mapToInt(Integer::intValue).toArray(),
        tags.size(),
        c,
        Baselines.TUNING_TOL,
        300,
        warm);
  }

  private static List<List<String>> tagWith(
      LogisticRegression model, float[][][] x, List<String> tags) {
    List<List<String>> out = new ArrayList<>(x.length);
    for (float[][] sentence : x) {
      List<String> t = new ArrayList<>(sentence.length);
      if (sentence.length > 0) {
        for (int k : model.predict(SparseMatrix.fromDense(sentence))) t.add(tags.get(k));
      }
      out.add(t);
    }
    return out;
  }

  /** Tagged sentences of a file; a tag outside {@code known} is an error naming its line. */
  private static List<TokenExample> tagged(Path file, List<String> known) {
    List<TokenExample> out = new ArrayList<>();
    for (Example e :
        Dataset.load(file, DataOptions.defaults().withTask(Task.TOKEN_CLASSIFICATION)).examples()) {
      TokenExample t = (TokenExample) e;
      for (String tag : t.tags()) {
        if (!known.contains(tag)) {
          throw new WhetException(
              file + ":" + t.line() + ": tag '" + tag + "' is not one the model knows " + known);
        }
      }
      out.add(t);
    }
    return out;
  }

  /**
   * The training examples the baselines learn from (those with labels the model knows), or none
   * when there is no file and no baseline needs them.
   */
  private static List<ClassificationExample> trainingExamples(
      Path trainFile, Options o, DataOptions options, List<String> labels) {
    if (trainFile == null) {
      if (o.baselines) {
        throw new WhetException(
            "--baselines needs the training examples: give --train FILE (or evaluate a run"
                + " directory)");
      }
      return List.of();
    }
    return examples(trainFile, options).stream()
        .filter(e -> labels.containsAll(e.labels()))
        .toList();
  }

  /** The run's data statistics, with its training time put into {@code timings}; null: none. */
  private static JsonNode runFacts(Path runDir, Map<String, Double> timings) {
    if (runDir == null) {
      return null;
    }
    Double trainSeconds = lastTrainSeconds(runDir);
    if (trainSeconds != null) {
      timings.put("training", trainSeconds);
    }
    return readJson(runDir.resolve("data_stats.json"));
  }

  /**
   * The frozen base model a classifier was fine-tuned from, for the baselines and the forgetting
   * check: {@code --base}, else what its whet.json records.
   */
  private static Encoder baseEncoder(ClassifierModel model, Options o) {
    return Encoder.load(
        ModelCatalog.resolve(o.base() != null ? o.base() : baseOf(model)),
        model.tokenizer().maxLength());
  }

  private static String baseOf(ClassifierModel model) {
    Object base = model.info().get("base");
    return base == null ? null : base.toString();
  }

  /**
   * {@code o} as it can run on {@code model}: a model that records no base (a Transformers
   * classifier loaded as it is) and was given no {@code --base} has nothing for the linear probe or
   * the forgetting check to run on, so {@code --baselines} is refused and the forgetting check left
   * out, each saying so, rather than comparing the model with itself.
   */
  private static Options withKnownBase(
      ClassifierModel model, Path modelDir, Options o, Consumer<String> log) {
    if (o.base() != null || baseOf(model) != null) {
      return o;
    }
    String why =
        modelDir
            + " records no base model (no whet.json): give --base NAME|DIR, the model it was"
            + " fine-tuned from,";
    if (o.baselines()) {
      throw new WhetException(why + " for the baselines on its frozen embeddings");
    }
    if (o.forgetting()) {
      log.accept("forgetting check left out: " + why + " to run it");
    }
    return new Options(o.data(), false, o.train(), false, null);
  }

  /** {@link #forgetting}, announced in {@code log} and timed into {@code timings}. */
  private static ForgettingCheck timedForgetting(
      Encoder base, ClassifierModel model, Map<String, Double> timings, Consumer<String> log) {
    return timedForgetting(base, texts -> model.embed(texts, base.pooling()), timings, log);
  }

  private static ForgettingCheck timedForgetting(
      Encoder base,
      java.util.function.Function<List<String>, float[][]> tuned,
      Map<String, Double> timings,
      Consumer<String> log) {
    log.accept("forgetting check: general sentence similarity (STS-B captions) before and after");
    long t = System.nanoTime();
    ForgettingCheck f = forgetting(base, tuned);
    timings.put("forgetting_check", (System.nanoTime() - t) / 1e9);
    return f;
  }

  /** eval/eval.json and eval/report.html of a run. */
  private static void writeReport(Path runDir, EvalResult result) {
    String config = runConfig(runDir);
    ReportWriter.write(
        runDir.resolve("eval"),
        new ReportData(reportTitle(runDir), result, runLog(runDir), config == null ? "" : config));
  }

  /** A run's job.yaml as written, or null. */
  private static String runConfig(Path runDir) {
    Path job = runDir.resolve("job.yaml");
    return Files.isRegularFile(job) ? readString(job) : null;
  }

  /** A run's training log (metrics.jsonl), or an empty one. */
  private static TrainingLog runLog(Path runDir) {
    Path metrics = runDir.resolve("metrics.jsonl");
    return Files.isRegularFile(metrics) ? TrainingLog.read(metrics) : TrainingLog.empty();
  }

  private static String reportTitle(Path runDir) {
    return "Whet evaluation: " + runDir.getFileName();
  }

  /**
   * A multi-label model against its baselines ({@link MultiLabelEvaluation}): thresholds tuned on
   * the run's validation file when it is not the file scored, else 0.5.
   */
  private static EvalResult multiLabel(
      ClassifierModel model,
      Path modelDir,
      Path runDir,
      Options o,
      Consumer<String> log,
      Map<String, Double> timings) {
    DataOptions options = options(model.task(), runDir).withTask(Task.MULTI_LABEL);
    List<String> labels = model.labels();
    List<ClassificationExample> test = examples(o.data, options);
    long t = System.nanoTime();
    log.accept("predicting " + test.size() + " examples");
    double[][] probs = doubles(predict(model, test));
    timings.put("predict", (System.nanoTime() - t) / 1e9);

    Path valFile = tuningFile(runDir, o.data);
    double[] thresholds = MultiLabelEvaluation.uniform(labels.size(), 0.5);
    String how = "0.5 for every label (no validation file to tune them on)";
    if (valFile != null) {
      List<ClassificationExample> val = examples(valFile, options);
      if (!val.isEmpty()) {
        thresholds =
            MultiLabelEvaluation.tuneThresholds(
                labelSets(val, labels, valFile), doubles(predict(model, val)));
        how = "per label, the best F1 on the validation file";
      }
    }
    Path trainFile = o.train != null ? o.train : runFile(runDir, "train");
    List<ClassificationExample> train = trainingExamples(trainFile, o, options, labels);
    List<String> testTexts = test.stream().map(RunEvaluation::input).toList();
    List<String> trainTexts = train.stream().map(RunEvaluation::input).toList();
    MultiLabelEvaluation ev =
        new MultiLabelEvaluation(
            labels,
            labelSets(test, labels, o.data),
            testTexts,
            trainTexts,
            labelSets(train, labels, trainFile),
            new Bootstrap());
    ev.add(
        "fine_tuned",
        "Fine-tuned model",
        probs,
        thresholds,
        timings.get("predict"),
        valFile == null ? null : "thresholds tuned on the validation file");
    ForgettingCheck forgetting = null;
    if ((o.baselines && !train.isEmpty()) || o.forgetting) {
      try (Encoder baseEncoder = baseEncoder(model, o)) {
        if (o.baselines && !train.isEmpty()) {
          log.accept(
              "baselines: embedding "
                  + train.size()
                  + " training examples with the frozen base model");
          t = System.nanoTime();
          float[][] trainX = baseEncoder.embed(trainTexts);
          float[][] testX = baseEncoder.embed(testTexts);
          timings.put("baseline_embeddings", (System.nanoTime() - t) / 1e9);
          log.accept("baselines: tuning each by cross-validation on the training data");
          ev.addBaselines(trainX, testX);
        }
        if (o.forgetting) {
          forgetting = timedForgetting(baseEncoder, model, timings, log);
        }
      }
    }
    JsonNode dataStats = runFacts(runDir, timings);
    EvalResult result =
        ev.result(
            runDir != null ? runDir.toString() : modelDir.toString(),
            "fine_tuned",
            how,
            forgetting,
            dataStats,
            timings);
    if (runDir != null) {
      writeReport(runDir, result);
    }
    return result;
  }

  /** Per example and label, whether the example has it; a label the model lacks is an error. */
  private static boolean[][] labelSets(
      List<ClassificationExample> examples, List<String> labels, Path file) {
    boolean[][] out = new boolean[examples.size()][labels.size()];
    for (int i = 0; i < out.length; i++) {
      for (String l : examples.get(i).labels()) {
        int c = labels.indexOf(l);
        if (c < 0) {
          throw new WhetException(
              file
                  + ":"
                  + examples.get(i).line()
                  + ": label '"
                  + l
                  + "' is not one the model was trained on "
                  + labels);
        }
        out[i][c] = true;
      }
    }
    return out;
  }

  private static double[][] doubles(float[][] m) {
    double[][] out = new double[m.length][];
    for (int i = 0; i < m.length; i++) {
      out[i] = new double[m[i].length];
      for (int j = 0; j < m[i].length; j++) out[i][j] = m[i][j];
    }
    return out;
  }

  /**
   * Spearman correlation of cosine similarity with STS-B gold scores, base encoder vs fine-tuned.
   */
  static ForgettingCheck forgetting(Encoder base, ClassifierModel tuned) {
    return forgetting(base, texts -> tuned.embed(texts, base.pooling()));
  }

  /** As above, for a tuned model that embeds texts itself. */
  static ForgettingCheck forgetting(
      Encoder base, java.util.function.Function<List<String>, float[][]> tuned) {
    List<ForgettingCheck.Pair> pairs = ForgettingCheck.readStsb(generalData());
    List<String> first = pairs.stream().map(ForgettingCheck.Pair::first).toList();
    List<String> second = pairs.stream().map(ForgettingCheck.Pair::second).toList();
    double[] gold = pairs.stream().mapToDouble(ForgettingCheck.Pair::score).toArray();
    double before = ForgettingCheck.stsSpearman(base.embed(first), base.embed(second), gold);
    double after = ForgettingCheck.stsSpearman(tuned.apply(first), tuned.apply(second), gold);
    return ForgettingCheck.of(
        "STS-B dev, CC-BY-SA captions (" + pairs.size() + " pairs), Spearman", before, after);
  }

  /** The bundled STS-B sample, copied once under WHET_HOME so it can be read as a file. */
  static Path generalData() {
    Path file = WhetHome.root().resolve("general/stsb-dev-cc-by-sa.tsv");
    if (!Files.isRegularFile(file)) {
      try (InputStream in =
          RunEvaluation.class.getResourceAsStream("/general/stsb-dev-cc-by-sa.tsv")) {
        Atomic.write(file, in.readAllBytes());
      } catch (IOException e) {
        throw new WhetException("cannot unpack the general-ability data: " + e.getMessage(), e);
      }
    }
    return file;
  }

  /** Class probabilities of each example (with its second text for pair tasks). */
  static float[][] predict(ClassifierModel model, List<ClassificationExample> examples) {
    boolean pairs = examples.stream().anyMatch(e -> e.textPair() != null);
    return model.predict(
        examples.stream().map(ClassificationExample::text).toList(),
        pairs
            ? examples.stream().map(e -> e.textPair() == null ? "" : e.textPair()).toList()
            : null);
  }

  static int[] argmax(float[][] probs) {
    int[] pred = new int[probs.length];
    for (int i = 0; i < probs.length; i++) {
      for (int c = 1; c < probs[i].length; c++) {
        if (probs[i][c] > probs[i][pred[i]]) {
          pred[i] = c;
        }
      }
    }
    return pred;
  }

  private static String input(ClassificationExample e) {
    return e.textPair() == null ? e.text() : e.text() + " [SEP] " + e.textPair();
  }

  static DataOptions options(Task task, Path runDir) {
    Task t = task == Task.PAIR_CLASSIFICATION ? task : Task.CLASSIFICATION;
    DataOptions o = DataOptions.defaults().withTask(t);
    JsonNode job = runDir == null ? null : readYaml(runDir.resolve("job.yaml"));
    if (job != null) {
      String text = job.path("text_column").isTextual() ? job.get("text_column").asText() : null;
      String label = job.path("label_column").isTextual() ? job.get("label_column").asText() : null;
      o = o.withColumns(text, null, label);
    }
    return o;
  }

  /** The run's file under {@code key} in job.yaml ({@code train}, {@code val}), or null. */
  private static Path runFile(Path runDir, String key) {
    JsonNode job = runDir == null ? null : readYaml(runDir.resolve("job.yaml"));
    return job != null && job.path(key).isTextual() ? Path.of(job.get(key).asText()) : null;
  }

  /**
   * The run's validation file, to tune the baselines on: null when there is none, when it is gone,
   * or when it is the file being scored (tuning on the test rows would flatter the baselines).
   */
  private static Path tuningFile(Path runDir, Path scored) {
    Path val = runFile(runDir, "val");
    if (val == null || !Files.isRegularFile(val)) return null;
    try {
      return Files.isSameFile(val, scored) ? null : val;
    } catch (java.io.IOException e) {
      return null;
    }
  }

  static List<ClassificationExample> examples(Path file, DataOptions options) {
    List<ClassificationExample> out = new ArrayList<>();
    for (Example e : Dataset.load(file, options).examples()) {
      out.add((ClassificationExample) e);
    }
    return out;
  }

  static int[] indices(List<ClassificationExample> examples, List<String> labels, Path file) {
    int[] y = new int[examples.size()];
    for (int i = 0; i < y.length; i++) {
      String l = examples.get(i).labels().get(0);
      y[i] = labels.indexOf(l);
      if (y[i] < 0) {
        throw new WhetException(
            file
                + ":"
                + examples.get(i).line()
                + ": label '"
                + l
                + "' is not one the model was trained on "
                + labels);
      }
    }
    return y;
  }

  private static void writePredictions(
      Path file,
      List<ClassificationExample> test,
      List<String> labels,
      int[] pred,
      float[][] probs) {
    ObjectMapper json = Json.MAPPER;
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < pred.length; i++) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("line", test.get(i).line());
      row.put("text", test.get(i).text());
      row.put("gold", test.get(i).labels().get(0));
      row.put("label", labels.get(pred[i]));
      row.put("confidence", probs[i][pred[i]]);
      try {
        b.append(json.writeValueAsString(row)).append('\n');
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
    Atomic.writeString(file, b.toString());
  }

  private static Double lastTrainSeconds(Path runDir) {
    Path state = runDir.resolve("model/whet.json");
    JsonNode w = readJson(state);
    return w != null && w.has("train_seconds") ? w.get("train_seconds").asDouble() : null;
  }

  private static JsonNode readJson(Path file) {
    try {
      return Files.isRegularFile(file) ? Json.MAPPER.readTree(file.toFile()) : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static JsonNode readYaml(Path file) {
    try {
      return Files.isRegularFile(file)
          ? new ObjectMapper(new YAMLFactory()).readTree(file.toFile())
          : null;
    } catch (IOException e) {
      throw new WhetException(file + ": unreadable (" + e.getMessage() + ")", e);
    }
  }

  private static String readString(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "";
    }
  }
}
