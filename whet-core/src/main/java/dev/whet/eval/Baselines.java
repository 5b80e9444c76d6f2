package dev.whet.eval;

import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The cheap alternatives a fine-tune must beat, on frozen sentence embeddings or raw text. Each
 * returns {@link Predictions} for the test rows; the {@code tuned…} variants first choose their
 * setting as a practitioner would ({@link Tuning}: on the validation rows when given, else by
 * cross-validation on the training rows), so a verdict is never won against an untuned alternative.
 */
public final class Baselines {
  private Baselines() {}

  /** Default neighbours for {@link #knn}: scikit-learn's default. */
  public static final int DEFAULT_K = 5;

  /**
   * Predicted labels and, where the method gives them, probabilities per class.
   *
   * @param probs null for methods without probabilities (nearest centroid)
   */
  public record Predictions(int[] labels, double[][] probs) {}

  /**
   * A tuned baseline: its predictions on the test rows and the setting chosen, in words.
   *
   * @param setting e.g. "word 1–2-grams, sublinear tf, min_df 2, C=10, chosen by 5-fold
   *     cross-validation on the training data (macro-F1 0.861)"
   */
  public record Tuned(Predictions predictions, String setting) {}

  /** Rows to tune on: the training rows and, when there is a validation file, its rows. */
  public record TuningData<X>(X train, int[] trainLabels, X validation, int[] validationLabels) {
    public TuningData {
      if ((validation == null) != (validationLabels == null)) {
        throw new IllegalArgumentException(
            "validation rows without labels, or labels without rows");
      }
    }
  }

  /**
   * Stopping rule of the fits that only score a setting: predictions settle long before the
   * optimum's last digits (the chosen setting's final fit runs to the usual 1e-6).
   */
  static final double TUNING_TOL = 1e-4;

  /** Inverse regularisation strengths tried for logistic regression on TF-IDF features. */
  static final double[] TFIDF_C = {0.1, 1, 10, 100};

  /** Inverse regularisation strengths tried for the linear probe. */
  static final double[] PROBE_C = {0.01, 0.1, 1, 10, 100};

  /** Neighbour counts tried for kNN. */
  static final int[] KNN_K = {1, 3, 5, 10, 20, 50};

  /**
   * The TF-IDF variants tried, all with sublinear tf: word n-grams with and without the terms seen
   * in one text only; character n-grams without them (with them the features grow several times
   * over, and the fits with them).
   */
  static TfidfVectorizer.Options[] tfidfVariants(boolean characters) {
    return characters
        ? new TfidfVectorizer.Options[] {new TfidfVectorizer.Options(true, 2, 5, true, 2)}
        : new TfidfVectorizer.Options[] {
          new TfidfVectorizer.Options(false, 1, 2, true, 1),
          new TfidfVectorizer.Options(false, 1, 2, true, 2)
        };
  }

  /**
   * TF-IDF + logistic regression with the vectorizer variant ({@link #tfidfVariants}) and C ({@link
   * #TFIDF_C}) chosen by held-out macro-F1; the vectorizer is fit on each fold's training rows
   * alone, as in a scikit-learn pipeline.
   *
   * @param characters character 2–5-grams within words instead of word 1–2-grams
   */
  public static Tuned tunedTfidfLogReg(
      TuningData<List<String>> data, List<String> testTexts, int classes, boolean characters) {
    TfidfVectorizer.Options[] variants = tfidfVariants(characters);
    List<String> pool = pool(data.train(), data.validation());
    int[] poolLabels = pool(data.trainLabels(), data.validationLabels());
    Tuning.Choice choice =
        Tuning.choose(
            plan(data, classes),
            poolLabels,
            classes,
            variants.length * TFIDF_C.length,
            fold -> {
              int[][] out = new int[variants.length * TFIDF_C.length][];
              List<String> train = Tuning.pick(pool, fold.train());
              int[] y = Tuning.pick(poolLabels, fold.train());
              for (int v = 0; v < variants.length; v++) {
                TfidfVectorizer tfidf = TfidfVectorizer.fit(train, variants[v]);
                SparseMatrix x = tfidf.transform(train);
                SparseMatrix eval = tfidf.transform(Tuning.pick(pool, fold.eval()));
                LogisticRegression last = null; // C grows: each fit starts from the last
                for (int c = 0; c < TFIDF_C.length; c++) {
                  last = LogisticRegression.fit(x, y, classes, TFIDF_C[c], TUNING_TOL, 1000, last);
                  out[v * TFIDF_C.length + c] = last.predict(eval);
                }
              }
              return out;
            });
    TfidfVectorizer.Options variant = variants[choice.index() / TFIDF_C.length];
    double c = TFIDF_C[choice.index() % TFIDF_C.length];
    Predictions p = tfidfLogReg(data.train(), data.trainLabels(), testTexts, classes, variant, c);
    return new Tuned(p, choice.describe(variant.describe() + ", C=" + number(c)));
  }

  /** kNN with k ({@link #KNN_K}, at most the training rows) chosen by held-out macro-F1. */
  public static Tuned tunedKnn(TuningData<float[][]> data, float[][] test, int classes) {
    float[][] pool = pool(data.train(), data.validation());
    int[] poolLabels = pool(data.trainLabels(), data.validationLabels());
    int[] ks = Arrays.stream(KNN_K).filter(k -> k <= data.train().length).toArray();
    if (ks.length == 0) ks = new int[] {data.train().length};
    int[] candidates = ks;
    Tuning.Choice choice =
        Tuning.choose(
            plan(data, classes),
            poolLabels,
            classes,
            candidates.length,
            fold -> {
              float[][] train = Tuning.pick(pool, fold.train());
              int[] y = Tuning.pick(poolLabels, fold.train());
              int[][] near =
                  neighbours(
                      train, Tuning.pick(pool, fold.eval()), candidates[candidates.length - 1]);
              int[][] out = new int[candidates.length][];
              for (int i = 0; i < candidates.length; i++) {
                out[i] = vote(near, y, classes, candidates[i]).labels();
              }
              return out;
            });
    int k = candidates[choice.index()];
    return new Tuned(
        knn(data.train(), data.trainLabels(), test, classes, k), choice.describe("k=" + k));
  }

  /** The linear probe with C ({@link #PROBE_C}) chosen by held-out macro-F1. */
  public static Tuned tunedLinearProbe(TuningData<float[][]> data, float[][] test, int classes) {
    ProbeChoice chosen = chooseProbeC(data, classes);
    return new Tuned(
        linearProbe(data.train(), data.trainLabels(), test, classes, chosen.c()), chosen.setting());
  }

  /**
   * A logistic regression's C, and how it was chosen (for reports).
   *
   * @param setting e.g. "C=10, chosen by 5-fold cross-validation on the training data (…)"
   */
  public record ProbeChoice(double c, String setting) {}

  /**
   * The C of {@link #PROBE_C} with the best held-out macro-F1 for a logistic regression on these
   * vectors: the linear probe's tuning, also SetFit's head's.
   */
  public static ProbeChoice chooseProbeC(TuningData<float[][]> data, int classes) {
    float[][] pool = pool(data.train(), data.validation());
    int[] poolLabels = pool(data.trainLabels(), data.validationLabels());
    Tuning.Choice choice =
        Tuning.choose(
            plan(data, classes),
            poolLabels,
            classes,
            PROBE_C.length,
            fold -> {
              SparseMatrix x = SparseMatrix.fromDense(Tuning.pick(pool, fold.train()));
              SparseMatrix eval = SparseMatrix.fromDense(Tuning.pick(pool, fold.eval()));
              int[] y = Tuning.pick(poolLabels, fold.train());
              int[][] out = new int[PROBE_C.length][];
              LogisticRegression last = null; // C grows: each fit starts from the last
              for (int c = 0; c < PROBE_C.length; c++) {
                last = LogisticRegression.fit(x, y, classes, PROBE_C[c], TUNING_TOL, 1000, last);
                out[c] = last.predict(eval);
              }
              return out;
            });
    double c = PROBE_C[choice.index()];
    return new ProbeChoice(c, choice.describe("C=" + number(c)));
  }

  private static <X> Tuning.Plan plan(TuningData<X> data, int classes) {
    return data.validation() == null
        ? Tuning.crossValidation(data.trainLabels(), classes, 0)
        : Tuning.validation(data.trainLabels().length, data.validationLabels().length);
  }

  private static List<String> pool(List<String> train, List<String> validation) {
    if (validation == null) return train;
    List<String> all = new java.util.ArrayList<>(train);
    all.addAll(validation);
    return all;
  }

  private static float[][] pool(float[][] train, float[][] validation) {
    if (validation == null) return train;
    float[][] all = Arrays.copyOf(train, train.length + validation.length);
    System.arraycopy(validation, 0, all, train.length, validation.length);
    return all;
  }

  private static int[] pool(int[] train, int[] validation) {
    if (validation == null) return train;
    int[] all = Arrays.copyOf(train, train.length + validation.length);
    System.arraycopy(validation, 0, all, train.length, validation.length);
    return all;
  }

  /** "10", "0.1": C as a person writes it. */
  static String number(double c) {
    return c == Math.rint(c) ? Long.toString((long) c) : Double.toString(c);
  }

  /**
   * Nearest centroid by cosine: each class's centroid is the mean of its L2-normalised training
   * embeddings; a test row goes to the centroid with the highest cosine similarity. Classes without
   * training rows are never predicted.
   */
  public static Predictions nearestCentroid(
      float[][] train, int[] trainLabels, float[][] test, int classes) {
    int d = dimension(train, test);
    double[][] centroid = new double[classes][d];
    int[] count = new int[classes];
    for (int i = 0; i < train.length; i++) {
      double[] u = unit(train[i]);
      for (int j = 0; j < d; j++) centroid[trainLabels[i]][j] += u[j];
      count[trainLabels[i]]++;
    }
    for (int c = 0; c < classes; c++) {
      double norm = Math.sqrt(dot(centroid[c], centroid[c]));
      if (norm > 0) for (int j = 0; j < d; j++) centroid[c][j] /= norm;
    }
    int[] out = new int[test.length];
    for (int i = 0; i < test.length; i++) {
      double[] u = unit(test[i]);
      int best = -1;
      double bestSim = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < classes; c++) {
        if (count[c] == 0) continue;
        double sim = dot(u, centroid[c]);
        if (sim > bestSim) {
          bestSim = sim;
          best = c;
        }
      }
      out[i] = best;
    }
    return new Predictions(out, null);
  }

  /**
   * k nearest neighbours by cosine similarity with uniform votes, as scikit-learn's {@code
   * KNeighborsClassifier(n_neighbors=k, metric="cosine")}: probabilities are vote fractions, a tied
   * vote goes to the lowest class index. Equidistant neighbours are taken in training order.
   */
  public static Predictions knn(
      float[][] train, int[] trainLabels, float[][] test, int classes, int k) {
    return vote(neighbours(train, test, k), trainLabels, classes, Math.min(k, train.length));
  }

  /** Uniform votes of each row's first {@code k} neighbours; a tie goes to the lowest class. */
  private static Predictions vote(int[][] neighbours, int[] trainLabels, int classes, int k) {
    int[] out = new int[neighbours.length];
    double[][] probs = new double[neighbours.length][classes];
    for (int i = 0; i < neighbours.length; i++) {
      for (int n = 0; n < k; n++) probs[i][trainLabels[neighbours[i][n]]] += 1.0 / k;
      out[i] = Metrics.argmax(probs[i]);
    }
    return new Predictions(out, probs);
  }

  /**
   * Each test row's {@code k} most cosine-similar training rows (at most all of them), most similar
   * first; equally similar ones in training order.
   */
  private static int[][] neighbours(float[][] train, float[][] test, int k) {
    dimension(train, test);
    int kk = Math.min(k, train.length);
    double[][] trainUnit = new double[train.length][];
    for (int i = 0; i < train.length; i++) trainUnit[i] = unit(train[i]);
    int[][] out = new int[test.length][];
    // Test rows are processed in blocks, each block on one core: a training row is read once per
    // block rather than once per test row, so the scan is not bound by memory bandwidth. The k
    // best of each row are kept in a small insertion-sorted array (no full sort).
    int block = 64;
    IntStream.range(0, (test.length + block - 1) / block)
        .parallel()
        .forEach(
            b -> {
              int from = b * block, to = Math.min(test.length, from + block);
              double[][] u = new double[to - from][];
              double[][] bestSim = new double[to - from][kk];
              int[][] bestIdx = new int[to - from][kk];
              for (int i = from; i < to; i++) {
                u[i - from] = unit(test[i]);
                Arrays.fill(bestSim[i - from], Double.NEGATIVE_INFINITY);
              }
              for (int t = 0; t < train.length; t++) {
                double[] row = trainUnit[t];
                for (int q = 0; q < u.length; q++) {
                  double sim = dot(u[q], row);
                  double[] bs = bestSim[q];
                  if (sim <= bs[kk - 1]) continue;
                  int[] bi = bestIdx[q];
                  int pos = kk - 1;
                  while (pos > 0 && bs[pos - 1] < sim) {
                    bs[pos] = bs[pos - 1];
                    bi[pos] = bi[pos - 1];
                    pos--;
                  }
                  bs[pos] = sim;
                  bi[pos] = t;
                }
              }
              for (int i = from; i < to; i++) out[i] = bestIdx[i - from];
            });
    return out;
  }

  /** Linear probe: {@link LogisticRegression} (C = 1) on the frozen embeddings. */
  public static Predictions linearProbe(
      float[][] train, int[] trainLabels, float[][] test, int classes) {
    return linearProbe(train, trainLabels, test, classes, 1.0);
  }

  /** Linear probe with inverse regularisation strength {@code c}. */
  public static Predictions linearProbe(
      float[][] train, int[] trainLabels, float[][] test, int classes, double c) {
    dimension(train, test);
    LogisticRegression model =
        LogisticRegression.fit(SparseMatrix.fromDense(train), trainLabels, classes, c, 1e-6, 1000);
    double[][] probs = model.predictProba(SparseMatrix.fromDense(test));
    return new Predictions(argmaxRows(probs), probs);
  }

  /** Classic text baseline: {@link TfidfVectorizer} word 1-2-grams + {@link LogisticRegression}. */
  public static Predictions tfidfLogReg(
      List<String> trainTexts, int[] trainLabels, List<String> testTexts, int classes) {
    return tfidfLogReg(
        trainTexts, trainLabels, testTexts, classes, TfidfVectorizer.Options.WORDS, 1);
  }

  /** TF-IDF with these options + logistic regression with inverse regularisation {@code c}. */
  public static Predictions tfidfLogReg(
      List<String> trainTexts,
      int[] trainLabels,
      List<String> testTexts,
      int classes,
      TfidfVectorizer.Options options,
      double c) {
    TfidfVectorizer tfidf = TfidfVectorizer.fit(trainTexts, options);
    LogisticRegression model =
        LogisticRegression.fit(tfidf.transform(trainTexts), trainLabels, classes, c, 1e-6, 1000);
    double[][] probs = model.predictProba(tfidf.transform(testTexts));
    return new Predictions(argmaxRows(probs), probs);
  }

  private static int[] argmaxRows(double[][] probs) {
    int[] out = new int[probs.length];
    for (int i = 0; i < probs.length; i++) out[i] = Metrics.argmax(probs[i]);
    return out;
  }

  private static int dimension(float[][] train, float[][] test) {
    if (train.length == 0) throw new IllegalArgumentException("no training embeddings");
    int d = train[0].length;
    for (float[] row : train) if (row.length != d) throw mismatch(d, row.length);
    for (float[] row : test) if (row.length != d) throw mismatch(d, row.length);
    return d;
  }

  private static IllegalArgumentException mismatch(int d, int got) {
    return new IllegalArgumentException("embedding of size " + got + " among size " + d);
  }

  private static double[] unit(float[] v) {
    double[] u = new double[v.length];
    double norm = 0;
    for (int j = 0; j < v.length; j++) {
      u[j] = v[j];
      norm += u[j] * u[j];
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (int j = 0; j < v.length; j++) u[j] /= norm;
    return u;
  }

  static double dot(double[] a, double[] b) {
    return dot(a, b, 0, a.length);
  }

  /**
   * The dot product of elements {@code from..to} of {@code a} and {@code b}. Four partial sums let
   * the CPU overlap the multiply-adds (a single sum is one long chain).
   */
  static double dot(double[] a, double[] b, int from, int to) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int j = from;
    for (; j + 3 < to; j += 4) {
      s0 += a[j] * b[j];
      s1 += a[j + 1] * b[j + 1];
      s2 += a[j + 2] * b[j + 2];
      s3 += a[j + 3] * b[j + 3];
    }
    for (; j < to; j++) s0 += a[j] * b[j];
    return (s0 + s1) + (s2 + s3);
  }
}
