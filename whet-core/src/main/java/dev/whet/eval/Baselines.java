package dev.whet.eval;

import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The cheap alternatives a fine-tune must beat, on frozen sentence embeddings or raw text. Each
 * returns {@link Predictions} for the test rows.
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
    dimension(train, test);
    int kk = Math.min(k, train.length);
    double[][] trainUnit = new double[train.length][];
    for (int i = 0; i < train.length; i++) trainUnit[i] = unit(train[i]);
    int[] out = new int[test.length];
    double[][] probs = new double[test.length][classes];
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
              for (int i = from; i < to; i++) {
                for (int idx : bestIdx[i - from]) probs[i][trainLabels[idx]] += 1.0 / kk;
                out[i] = Metrics.argmax(probs[i]);
              }
            });
    return new Predictions(out, probs);
  }

  /** Linear probe: {@link LogisticRegression} (C = 1) on the frozen embeddings. */
  public static Predictions linearProbe(
      float[][] train, int[] trainLabels, float[][] test, int classes) {
    dimension(train, test);
    LogisticRegression model =
        LogisticRegression.fit(SparseMatrix.fromDense(train), trainLabels, classes);
    double[][] probs = model.predictProba(SparseMatrix.fromDense(test));
    return new Predictions(argmaxRows(probs), probs);
  }

  /** Classic text baseline: {@link TfidfVectorizer} word 1-2-grams + {@link LogisticRegression}. */
  public static Predictions tfidfLogReg(
      List<String> trainTexts, int[] trainLabels, List<String> testTexts, int classes) {
    TfidfVectorizer tfidf = TfidfVectorizer.fit(trainTexts);
    LogisticRegression model =
        LogisticRegression.fit(tfidf.transform(trainTexts), trainLabels, classes);
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

  // Four partial sums let the CPU overlap the multiply-adds (a single sum is one long chain).
  private static double dot(double[] a, double[] b) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int j = 0;
    for (; j + 3 < a.length; j += 4) {
      s0 += a[j] * b[j];
      s1 += a[j + 1] * b[j + 1];
      s2 += a[j + 2] * b[j + 2];
      s3 += a[j + 3] * b[j + 3];
    }
    for (; j < a.length; j++) s0 += a[j] * b[j];
    return (s0 + s1) + (s2 + s3);
  }
}
