package dev.whet.eval;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores multi-label classifiers (each text has any number of labels) on one test set, as {@link
 * Evaluation} does for single-label ones, and builds the same {@link EvalResult}: per system the
 * subset accuracy (as {@code accuracy}) and the macro F1 over labels (as {@code f1_macro}) with
 * bootstrap intervals, paired differences with the reference, the verdict; and in {@link
 * EvalResult#multiLabel()} the micro F1, Hamming loss and per-label scores with the thresholds
 * used.
 *
 * <p>A label is predicted when its probability reaches its threshold: 0.5, or for the fine-tuned
 * model the threshold that maximised that label's F1 on the validation file ({@link
 * #tuneThresholds}). The baselines — TF-IDF and the base model's embeddings, each with one logistic
 * regression per label — choose their C by cross-validation on the training data, scored by micro
 * F1.
 */
public final class MultiLabelEvaluation {
  /** Thresholds tried per label on the validation file. */
  static final double[] THRESHOLDS = new double[19];

  static {
    for (int i = 0; i < THRESHOLDS.length; i++) THRESHOLDS[i] = 0.05 * (i + 1);
  }

  /** One label's scores under one system. */
  public record LabelScores(
      String label, double threshold, double precision, double recall, double f1, int support) {}

  /** What a system scored beyond subset accuracy and macro F1 (in its {@link SystemResult}). */
  public record SystemScores(
      double microF1, Interval microF1Interval, double hammingLoss, List<LabelScores> labels) {}

  /**
   * @param thresholds how the reference's thresholds were chosen, in words
   * @param systems by system name
   */
  public record Scores(String thresholds, Map<String, SystemScores> systems) {}

  private final List<String> labels;
  private final boolean[][] gold;
  private final List<String> testTexts;
  private final List<String> trainTexts;
  private final boolean[][] trainGold;
  private final Bootstrap bootstrap;
  private final Map<String, Scored> systems = new LinkedHashMap<>();

  private record Scored(SystemResult result, boolean[][] pred, SystemScores scores) {}

  /**
   * @param gold per test text and label, whether the text has it
   * @param trainGold the same for the training texts (baselines)
   */
  public MultiLabelEvaluation(
      List<String> labels,
      boolean[][] gold,
      List<String> testTexts,
      List<String> trainTexts,
      boolean[][] trainGold,
      Bootstrap bootstrap) {
    if (gold.length != testTexts.size() || trainGold.length != trainTexts.size()) {
      throw new IllegalArgumentException("texts and labels differ in number");
    }
    this.labels = List.copyOf(labels);
    this.gold = gold;
    this.testTexts = List.copyOf(testTexts);
    this.trainTexts = List.copyOf(trainTexts);
    this.trainGold = trainGold;
    this.bootstrap = bootstrap;
  }

  /**
   * Per label, the threshold of {@link #THRESHOLDS} with the best F1 on these rows (the lowest of
   * equal ones); 0.5 for a label the rows never have.
   */
  public static double[] tuneThresholds(boolean[][] gold, double[][] probs) {
    int k = gold.length == 0 ? 0 : gold[0].length;
    double[] out = new double[k];
    for (int j = 0; j < k; j++) {
      out[j] = 0.5;
      double best = -1;
      boolean any = false;
      for (boolean[] row : gold) any |= row[j];
      if (!any) continue;
      for (double t : THRESHOLDS) {
        long tp = 0, predicted = 0, actual = 0;
        for (int i = 0; i < gold.length; i++) {
          boolean p = probs[i][j] >= t;
          if (p && gold[i][j]) tp++;
          if (p) predicted++;
          if (gold[i][j]) actual++;
        }
        double f1 = Metrics.f1(tp, predicted, actual);
        if (f1 > best + 1e-12) {
          best = f1;
          out[j] = t;
        }
      }
    }
    return out;
  }

  /** The same threshold for every label. */
  public static double[] uniform(int labels, double threshold) {
    double[] t = new double[labels];
    java.util.Arrays.fill(t, threshold);
    return t;
  }

  /** Scores a system from its probabilities and per-label thresholds. */
  public SystemResult add(
      String name,
      String description,
      double[][] probs,
      double[] thresholds,
      double seconds,
      String setting) {
    if (probs.length != gold.length) {
      throw new IllegalArgumentException(
          name + ": " + probs.length + " predictions for " + gold.length + " test examples");
    }
    boolean[][] pred = new boolean[probs.length][labels.size()];
    for (int i = 0; i < probs.length; i++) {
      for (int j = 0; j < labels.size(); j++) pred[i][j] = probs[i][j] >= thresholds[j];
    }
    List<LabelScores> perLabel = new ArrayList<>();
    for (int j = 0; j < labels.size(); j++) {
      long tp = 0, predicted = 0, actual = 0;
      for (int i = 0; i < gold.length; i++) {
        if (pred[i][j] && gold[i][j]) tp++;
        if (pred[i][j]) predicted++;
        if (gold[i][j]) actual++;
      }
      perLabel.add(
          new LabelScores(
              labels.get(j),
              thresholds[j],
              predicted == 0 ? 0 : (double) tp / predicted,
              actual == 0 ? 0 : (double) tp / actual,
              Metrics.f1(tp, predicted, actual),
              (int) actual));
    }
    int n = gold.length;
    SystemScores scores =
        new SystemScores(
            Metrics.multiLabelMicroF1(gold, pred),
            bootstrap.interval(
                n, idx -> Metrics.multiLabelMicroF1(rows(gold, idx), rows(pred, idx))),
            Metrics.hammingLoss(gold, pred),
            perLabel);
    SystemResult r =
        new SystemResult(
            name,
            description,
            Metrics.subsetAccuracy(gold, pred),
            Metrics.multiLabelMacroF1(gold, pred),
            bootstrap.interval(n, subsetAccuracy(pred)),
            bootstrap.interval(n, macroF1(pred)),
            null,
            seconds,
            setting);
    systems.put(name, new Scored(r, pred, scores));
    return r;
  }

  /**
   * TF-IDF (word 1–2-grams, sublinear tf) and, when embeddings are given, the base model's
   * embeddings, each with one logistic regression per label; C chosen by cross-validation on the
   * training data (micro F1, a label predicted at probability 0.5).
   */
  public void addBaselines(float[][] trainEmbeddings, float[][] testEmbeddings) {
    TfidfVectorizer.Options words = new TfidfVectorizer.Options(false, 1, 2, true, 1);
    long t = System.nanoTime();
    Tuned tfidf =
        tuned(
            Baselines.TFIDF_C,
            rows -> {
              TfidfVectorizer v = TfidfVectorizer.fit(Tuning.pick(trainTexts, rows), words);
              return new Featurizer(
                  v.transform(Tuning.pick(trainTexts, rows)),
                  other -> v.transform(Tuning.pick(trainTexts, other)),
                  () -> v.transform(testTexts));
            });
    add(
        "tfidf_logreg",
        "TF-IDF word n-grams + logistic regression per label",
        tfidf.probs(),
        uniform(labels.size(), 0.5),
        (System.nanoTime() - t) / 1e9,
        tfidf.setting(words.describe()));
    if (trainEmbeddings == null || testEmbeddings == null) return;
    t = System.nanoTime();
    Tuned probe =
        tuned(
            Baselines.PROBE_C,
            rows ->
                new Featurizer(
                    SparseMatrix.fromDense(Tuning.pick(trainEmbeddings, rows)),
                    other -> SparseMatrix.fromDense(Tuning.pick(trainEmbeddings, other)),
                    () -> SparseMatrix.fromDense(testEmbeddings)));
    add(
        "linear_probe",
        "Base model embeddings, linear probe per label",
        probe.probs(),
        uniform(labels.size(), 0.5),
        (System.nanoTime() - t) / 1e9,
        probe.setting("frozen embeddings"));
  }

  /**
   * Features fitted on some training rows (a TF-IDF vocabulary, or nothing for embeddings): those
   * rows, other training rows, and the test rows.
   */
  private record Featurizer(
      SparseMatrix train,
      java.util.function.Function<int[], SparseMatrix> trainRows,
      java.util.function.Supplier<SparseMatrix> test) {}

  private record Tuned(double[][] probs, double c, Tuning.Choice choice) {
    String setting(String features) {
      return choice.describe(features + ", C=" + Baselines.number(c));
    }
  }

  /**
   * Chooses C from {@code grid} by cross-validation over the training rows (micro F1 at 0.5), then
   * fits on all of them and gives the test rows' probabilities.
   */
  private Tuned tuned(double[] grid, java.util.function.Function<int[], Featurizer> fit) {
    int k = labels.size();
    int[] stratum = new int[trainGold.length];
    for (int i = 0; i < stratum.length; i++) {
      stratum[i] = k; // no label
      for (int j = 0; j < k; j++) {
        if (trainGold[i][j]) {
          stratum[i] = j; // its first label: folds keep each label's share
          break;
        }
      }
    }
    Tuning.Plan plan = Tuning.crossValidation(stratum, k + 1, 0);
    Tuning.Choice choice =
        Tuning.chooseBy(
            plan,
            grid.length,
            fold -> {
              Featurizer f = fit.apply(fold.train());
              SparseMatrix eval = f.trainRows().apply(fold.eval());
              boolean[][] y = Tuning.pick(trainGold, fold.train());
              boolean[][] truth = Tuning.pick(trainGold, fold.eval());
              double[] scores = new double[grid.length];
              LogisticRegression[] last = new LogisticRegression[k]; // C grows: warm starts
              for (int c = 0; c < grid.length; c++) {
                double[][] p = oneVsRest(f.train(), y, eval, grid[c], Baselines.TUNING_TOL, last);
                scores[c] = Metrics.multiLabelMicroF1(truth, threshold(p, 0.5));
              }
              return scores;
            });
    double c = grid[choice.index()];
    Featurizer f = fit.apply(java.util.stream.IntStream.range(0, trainGold.length).toArray());
    double[][] probs =
        oneVsRest(f.train(), trainGold, f.test().get(), c, 1e-6, new LogisticRegression[k]);
    return new Tuned(probs, c, choice);
  }

  /**
   * One logistic regression per label. A label the rows always or never have gets that constant
   * probability (there is nothing to fit).
   *
   * @param warm per label, the fit at the previous C to start from; updated in place
   */
  private static double[][] oneVsRest(
      SparseMatrix x,
      boolean[][] y,
      SparseMatrix test,
      double c,
      double tol,
      LogisticRegression[] warm) {
    int k = warm.length;
    double[][] out = new double[test.rows()][k];
    for (int j = 0; j < k; j++) {
      int[] yj = new int[y.length];
      int positives = 0;
      for (int i = 0; i < y.length; i++) {
        yj[i] = y[i][j] ? 1 : 0;
        positives += yj[i];
      }
      if (positives == 0 || positives == y.length) {
        for (double[] row : out) row[j] = positives == 0 ? 0 : 1;
        continue;
      }
      warm[j] = LogisticRegression.fit(x, yj, 2, c, tol, 1000, warm[j]);
      double[][] p = warm[j].predictProba(test);
      for (int i = 0; i < out.length; i++) out[i][j] = p[i][1];
    }
    return out;
  }

  private static boolean[][] threshold(double[][] probs, double t) {
    boolean[][] out = new boolean[probs.length][];
    for (int i = 0; i < probs.length; i++) {
      out[i] = new boolean[probs[i].length];
      for (int j = 0; j < probs[i].length; j++) out[i][j] = probs[i][j] >= t;
    }
    return out;
  }

  /**
   * The result, in the shape of a single-label one.
   *
   * @param thresholds how the reference's thresholds were chosen, in words
   * @param forgetting the forgetting check, or null
   */
  public EvalResult result(
      String run,
      String reference,
      String thresholds,
      ForgettingCheck forgetting,
      JsonNode dataStats,
      Map<String, Double> timings) {
    Scored ref = systems.get(reference);
    if (ref == null) throw new IllegalArgumentException("no system named " + reference);
    List<Comparison> comparisons = new ArrayList<>();
    for (Scored other : systems.values()) {
      if (other == ref) continue;
      comparisons.add(compare(ref, other, "f1_macro", this::macroF1));
      comparisons.add(compare(ref, other, "accuracy", this::subsetAccuracy));
    }
    Map<String, SystemResult> results = new LinkedHashMap<>();
    Map<String, SystemScores> scores = new LinkedHashMap<>();
    systems.forEach(
        (name, s) -> {
          results.put(name, s.result());
          scores.put(name, s.scores());
        });
    Map<String, Double> allTimings = new LinkedHashMap<>(timings == null ? Map.of() : timings);
    systems.forEach((name, s) -> allTimings.putIfAbsent("system." + name, s.result().seconds()));
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
        null,
        dataStats,
        allTimings,
        new Scores(thresholds, scores));
  }

  private Comparison compare(
      Scored ref,
      Scored other,
      String metric,
      java.util.function.Function<boolean[][], Bootstrap.SampleMetric> of) {
    Interval diff = bootstrap.difference(gold.length, of.apply(ref.pred()), of.apply(other.pred()));
    return new Comparison(
        ref.result().name(), other.result().name(), metric, diff, Comparison.Outcome.of(diff));
  }

  private Bootstrap.SampleMetric macroF1(boolean[][] pred) {
    return idx -> Metrics.multiLabelMacroF1(rows(gold, idx), rows(pred, idx));
  }

  private Bootstrap.SampleMetric subsetAccuracy(boolean[][] pred) {
    return idx -> Metrics.subsetAccuracy(rows(gold, idx), rows(pred, idx));
  }

  private static boolean[][] rows(boolean[][] m, int[] idx) {
    return Tuning.pick(m, idx);
  }
}
