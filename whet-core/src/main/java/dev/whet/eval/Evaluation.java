package dev.whet.eval;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Collects the systems scored on one test set and turns them into an {@link EvalResult}: metrics,
 * bootstrap intervals, paired comparisons with the reference, a verdict and the error analysis.
 *
 * <pre>{@code
 * Evaluation ev = new Evaluation(labels, testGold, testTexts, trainTexts, trainLabels);
 * ev.add("fine_tuned", "Fine-tuned model", pred, probs, seconds);
 * ev.addBaselines(trainEmbeddings, testEmbeddings); // or null, null: TF-IDF only
 * EvalResult result = ev.result(runId, "fine_tuned", forgetting, dataStats, timings);
 * }</pre>
 */
public final class Evaluation {
  private final List<String> labels;
  private final int[] gold;
  private final List<String> testTexts;
  private final List<String> trainTexts;
  private final int[] trainLabels;
  private final Bootstrap bootstrap;
  private final Map<String, Scored> systems = new LinkedHashMap<>();

  private record Scored(SystemResult result, int[] pred, double[][] probs) {}

  /**
   * @param labels class names, index = label id
   * @param gold gold label per test example
   * @param testTexts text per test example (error analysis, TF-IDF baseline)
   * @param trainTexts training texts (baselines, label conflicts)
   * @param trainLabels training labels
   */
  public Evaluation(
      List<String> labels,
      int[] gold,
      List<String> testTexts,
      List<String> trainTexts,
      int[] trainLabels) {
    this(labels, gold, testTexts, trainTexts, trainLabels, new Bootstrap());
  }

  /** As above with a chosen bootstrap (resamples, seed, level). */
  public Evaluation(
      List<String> labels,
      int[] gold,
      List<String> testTexts,
      List<String> trainTexts,
      int[] trainLabels,
      Bootstrap bootstrap) {
    if (gold.length != testTexts.size() || trainLabels.length != trainTexts.size()) {
      throw new IllegalArgumentException("texts and labels differ in number");
    }
    this.labels = List.copyOf(labels);
    this.gold = gold.clone();
    this.testTexts = List.copyOf(testTexts);
    this.trainTexts = List.copyOf(trainTexts);
    this.trainLabels = trainLabels.clone();
    this.bootstrap = bootstrap;
    checkLabels(gold, "test labels");
    checkLabels(trainLabels, "training labels");
  }

  private void checkLabels(int[] ids, String what) {
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= labels.size()) {
        throw new IllegalArgumentException(
            what
                + "["
                + i
                + "] = "
                + ids[i]
                + " is not a label id (0.."
                + (labels.size() - 1)
                + ")");
      }
    }
  }

  /** Scores one system's predictions on the test set. */
  public SystemResult add(
      String name, String description, int[] pred, double[][] probs, double seconds) {
    return add(name, description, pred, probs, seconds, null);
  }

  private SystemResult add(
      String name,
      String description,
      int[] pred,
      double[][] probs,
      double seconds,
      String setting) {
    checkLabels(pred, name + " predictions");
    if (pred.length != gold.length || (probs != null && probs.length != gold.length)) {
      throw new IllegalArgumentException(
          name + ": " + pred.length + " predictions for " + gold.length + " test examples");
    }
    Metrics.Classification m = Metrics.classification(gold, pred, probs, labels);
    Interval acc = bootstrap.interval(gold.length, Bootstrap.SampleMetric.accuracy(gold, pred));
    Interval f1 =
        bootstrap.interval(gold.length, Bootstrap.SampleMetric.f1Macro(gold, pred, labels.size()));
    SystemResult r =
        new SystemResult(
            name, description, m.accuracy(), m.macro().f1(), acc, f1, m, seconds, setting);
    systems.put(name, new Scored(r, pred.clone(), probs));
    return r;
  }

  /**
   * Runs and scores the standard baselines, each tuned by cross-validation on the training data:
   * {@code tfidf_logreg} (word n-grams) and {@code tfidf_char_logreg} (character n-grams) always;
   * {@code centroid}, {@code knn} and {@code linear_probe} when frozen embeddings of the base model
   * are given.
   */
  public void addBaselines(float[][] trainEmbeddings, float[][] testEmbeddings) {
    addBaselines(trainEmbeddings, testEmbeddings, null);
  }

  /**
   * The validation rows baselines are tuned on instead of cross-validation: never the test rows.
   *
   * @param embeddings the base model's embeddings of the texts, or null without embedding baselines
   */
  public record Validation(List<String> texts, int[] labels, float[][] embeddings) {}

  /** As above, tuned on {@code validation} when it is not null. */
  public void addBaselines(
      float[][] trainEmbeddings, float[][] testEmbeddings, Validation validation) {
    int k = labels.size();
    if (validation != null) checkLabels(validation.labels(), "validation labels");
    List<String> valTexts = validation == null ? null : validation.texts();
    int[] valLabels = validation == null ? null : validation.labels();
    var texts = new Baselines.TuningData<>(trainTexts, trainLabels, valTexts, valLabels);
    long t = System.nanoTime();
    add(
        "tfidf_logreg",
        "TF-IDF word n-grams + logistic regression",
        Baselines.tunedTfidfLogReg(texts, testTexts, k, false),
        t);
    t = System.nanoTime();
    add(
        "tfidf_char_logreg",
        "TF-IDF character n-grams + logistic regression",
        Baselines.tunedTfidfLogReg(texts, testTexts, k, true),
        t);
    if (trainEmbeddings == null || testEmbeddings == null) return;
    var embeddings =
        new Baselines.TuningData<>(
            trainEmbeddings,
            trainLabels,
            validation == null ? null : validation.embeddings(),
            validation == null || validation.embeddings() == null ? null : valLabels);
    t = System.nanoTime();
    Baselines.Predictions p =
        Baselines.nearestCentroid(trainEmbeddings, trainLabels, testEmbeddings, k);
    add("centroid", "Base model embeddings, nearest centroid", p, t);
    t = System.nanoTime();
    add(
        "knn",
        "Base model embeddings, k-nearest neighbours",
        Baselines.tunedKnn(embeddings, testEmbeddings, k),
        t);
    t = System.nanoTime();
    add(
        "linear_probe",
        "Base model embeddings, linear probe (logistic regression)",
        Baselines.tunedLinearProbe(embeddings, testEmbeddings, k),
        t);
  }

  private void add(String name, String description, Baselines.Predictions p, long startNanos) {
    add(name, description, p.labels(), p.probs(), (System.nanoTime() - startNanos) / 1e9);
  }

  private void add(String name, String description, Baselines.Tuned b, long startNanos) {
    Baselines.Predictions p = b.predictions();
    add(
        name,
        description,
        p.labels(),
        p.probs(),
        (System.nanoTime() - startNanos) / 1e9,
        b.setting());
  }

  /**
   * Builds the result.
   *
   * @param run run id or model directory
   * @param reference name of the system to compare the others with; must have been added
   * @param forgetting forgetting check, or null
   * @param dataStats data statistics JSON, or null
   * @param timings seconds per stage (copied; may be empty)
   */
  public EvalResult result(
      String run,
      String reference,
      ForgettingCheck forgetting,
      JsonNode dataStats,
      Map<String, Double> timings) {
    Scored ref = systems.get(reference);
    if (ref == null) throw new IllegalArgumentException("no system named " + reference);
    List<Comparison> comparisons = new ArrayList<>();
    for (Scored other : systems.values()) {
      if (other == ref) continue;
      comparisons.add(compare(ref, other, "f1_macro"));
      comparisons.add(compare(ref, other, "accuracy"));
    }
    Map<String, SystemResult> results = new LinkedHashMap<>();
    systems.forEach((name, s) -> results.put(name, s.result()));
    Map<String, Double> allTimings = new LinkedHashMap<>(timings == null ? Map.of() : timings);
    systems.forEach(
        (name, s) -> {
          if (!Double.isNaN(s.result().seconds())) {
            allTimings.putIfAbsent("system." + name, s.result().seconds());
          }
        });
    ErrorAnalysis errors =
        ErrorAnalysis.analyse(
            ref.result().metrics(),
            gold,
            ref.pred(),
            ref.probs(),
            testTexts,
            trainTexts,
            trainLabels,
            labels);
    return new EvalResult(
        run,
        reference,
        labels,
        gold.length,
        ref.result().accuracy(),
        ref.result().f1Macro(),
        results,
        comparisons,
        Verdict.describe(ref.result(), results, comparisons),
        Verdict.headline(reference, results, comparisons),
        forgetting,
        errors,
        dataStats,
        allTimings,
        null);
  }

  private Comparison compare(Scored ref, Scored other, String metric) {
    Bootstrap.SampleMetric a;
    Bootstrap.SampleMetric b;
    if (metric.equals("accuracy")) {
      a = Bootstrap.SampleMetric.accuracy(gold, ref.pred());
      b = Bootstrap.SampleMetric.accuracy(gold, other.pred());
    } else {
      a = Bootstrap.SampleMetric.f1Macro(gold, ref.pred(), labels.size());
      b = Bootstrap.SampleMetric.f1Macro(gold, other.pred(), labels.size());
    }
    Interval diff = bootstrap.difference(gold.length, a, b);
    return new Comparison(
        ref.result().name(), other.result().name(), metric, diff, Comparison.Outcome.of(diff));
  }

  static String points(double v) {
    return String.format(Locale.ROOT, "%.1f", 100 * v);
  }
}
