package dev.whet.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Baselines against scikit-learn 1.2.1 (make_fixtures.py): KNeighborsClassifier(5, cosine),
 * LogisticRegression(C=1.0) converged tightly (tol=1e-10) and with its defaults, TfidfVectorizer(
 * ngram_range=(1, 2)); nearest centroid against the script's numpy implementation.
 */
class BaselinesTest {
  /**
   * Probabilities against scikit-learn's own fit. Its lbfgs stops on a relative change of 64
   * machine epsilons even with tol=1e-10, about 1e-4 short of the optimum in probability on the
   * embedding fixture, so the comparison with it is at 1e-3 ...
   */
  private static final double SKLEARN_PROBA_TOLERANCE = 1e-3;

  /**
   * ... and the one with the same objective minimised to convergence (scipy L-BFGS-B, gtol=1e-12,
   * make_fixtures.py's exact_logreg) at 5e-4 with the default stopping rule (gradient 1e-6, chosen
   * for speed on 10k x 30k inputs), and at 1e-6 when run to a tight tolerance: the optimiser finds
   * the same optimum, the default just stops sooner.
   */
  private static final double EXACT_PROBA_TOLERANCE = 5e-4;

  private final JsonNode emb = Fixtures.load("embeddings.json");
  private final float[][] train = Fixtures.floats(emb.get("train"));
  private final int[] trainLabels = Fixtures.ints(emb.get("train_labels"));
  private final float[][] test = Fixtures.floats(emb.get("test"));
  private final int k = emb.get("k").asInt();

  @Test
  void knnMatchesSklearn() {
    Baselines.Predictions p = Baselines.knn(train, trainLabels, test, k, 5);
    assertArrayEquals(Fixtures.ints(emb.get("knn_pred")), p.labels());
    double[][] expected = Fixtures.matrix(emb.get("knn_proba"));
    for (int i = 0; i < expected.length; i++) assertArrayEquals(expected[i], p.probs()[i], 1e-12);
  }

  @Test
  void nearestCentroidMatchesNumpyReference() {
    Baselines.Predictions p = Baselines.nearestCentroid(train, trainLabels, test, k);
    assertArrayEquals(Fixtures.ints(emb.get("centroid_pred")), p.labels());
  }

  @Test
  void linearProbeMatchesSklearnMultinomial() {
    Baselines.Predictions p = Baselines.linearProbe(train, trainLabels, test, k);
    assertArrayEquals(Fixtures.ints(emb.get("logreg_pred")), p.labels());
    double[][] sklearn = Fixtures.matrix(emb.get("logreg_proba"));
    double[][] exact = Fixtures.matrix(emb.get("logreg_proba_exact"));
    for (int i = 0; i < sklearn.length; i++) {
      assertArrayEquals(sklearn[i], p.probs()[i], SKLEARN_PROBA_TOLERANCE, "row " + i);
      assertArrayEquals(exact[i], p.probs()[i], EXACT_PROBA_TOLERANCE, "row " + i);
    }
    assertTrue(agreement(Fixtures.ints(emb.get("logreg_default_pred")), p.labels()) >= 0.98);
  }

  @Test
  void logisticRegressionRunToATightToleranceReachesTheExactOptimum() {
    LogisticRegression model =
        LogisticRegression.fit(SparseMatrix.fromDense(train), trainLabels, k, 1.0, 1e-10, 10_000);
    double[][] p = model.predictProba(SparseMatrix.fromDense(test));
    double[][] exact = Fixtures.matrix(emb.get("logreg_proba_exact"));
    for (int i = 0; i < exact.length; i++) assertArrayEquals(exact[i], p[i], 1e-6, "row " + i);
  }

  @Test
  void tfidfMatchesSklearnVocabularyIdfAndRows() throws IOException {
    JsonNode f = Fixtures.load("tfidf.json");
    List<String>[] data = sst2();
    int trainRows = f.get("train_rows").asInt();
    TfidfVectorizer tfidf = TfidfVectorizer.fit(data[0].subList(0, trainRows));
    List<String> vocabulary = new ArrayList<>();
    f.get("vocabulary").forEach(t -> vocabulary.add(t.asText()));
    assertEquals(vocabulary, tfidf.terms());
    double[] idf = Fixtures.doubles(f.get("idf"));
    for (int j = 0; j < idf.length; j++) assertEquals(idf[j], tfidf.idf(j), 1e-12);

    SparseMatrix row0 = tfidf.transform(data[0].subList(trainRows, trainRows + 1));
    int[] cols = Fixtures.ints(f.get("test_row0").get("columns"));
    double[] vals = Fixtures.doubles(f.get("test_row0").get("values"));
    assertEquals(cols.length, row0.nonZeros());
    for (int q = 0; q < cols.length; q++) assertEquals(vals[q], row0.get(0, cols[q]), 1e-12);
  }

  @Test
  void tfidfLogisticRegressionMatchesSklearnOnSst2() throws IOException {
    JsonNode f = Fixtures.load("tfidf.json");
    List<String>[] data = sst2();
    int trainRows = f.get("train_rows").asInt();
    int[] labels = data[1].stream().mapToInt(Integer::parseInt).toArray();
    int[] trainLabels = java.util.Arrays.copyOfRange(labels, 0, trainRows);
    int[] testLabels = java.util.Arrays.copyOfRange(labels, trainRows, labels.length);
    Baselines.Predictions p =
        Baselines.tfidfLogReg(
            data[0].subList(0, trainRows),
            trainLabels,
            data[0].subList(trainRows, data[0].size()),
            2);
    assertArrayEquals(Fixtures.ints(f.get("logreg_pred")), p.labels());
    double[] sklearn = Fixtures.doubles(f.get("logreg_proba"));
    double[] exact = Fixtures.doubles(f.get("logreg_proba_exact"));
    for (int i = 0; i < sklearn.length; i++) {
      assertEquals(sklearn[i], p.probs()[i][1], SKLEARN_PROBA_TOLERANCE);
      assertEquals(exact[i], p.probs()[i][1], EXACT_PROBA_TOLERANCE);
    }
    assertEquals(f.get("accuracy").asDouble(), Metrics.accuracy(testLabels, p.labels()), 1e-12);
    assertTrue(
        Math.abs(f.get("accuracy_default").asDouble() - Metrics.accuracy(testLabels, p.labels()))
            <= 0.01);
  }

  /**
   * Issue 17, item 1: the tuned baselines' vectorizers (sublinear tf, min_df 2; word 1–2-grams and
   * character 2–5-grams within words) and C=10 against scikit-learn (tfidf_tuned.json).
   */
  @Test
  void tunedSettingsMatchSklearn() throws IOException {
    JsonNode f = Fixtures.load("tfidf_tuned.json");
    List<String>[] data = sst2();
    int trainRows = f.get("train_rows").asInt();
    int[] labels = data[1].stream().mapToInt(Integer::parseInt).toArray();
    List<String> train = data[0].subList(0, trainRows);
    List<String> test = data[0].subList(trainRows, data[0].size());
    for (String variant : List.of("words", "chars")) {
      JsonNode v = f.get(variant);
      TfidfVectorizer.Options options =
          variant.equals("words")
              ? new TfidfVectorizer.Options(false, 1, 2, true, 2)
              : new TfidfVectorizer.Options(true, 2, 5, true, 2);
      TfidfVectorizer tfidf = TfidfVectorizer.fit(train, options);
      List<String> vocabulary = new ArrayList<>();
      v.get("vocabulary").forEach(t -> vocabulary.add(t.asText()));
      assertEquals(vocabulary, tfidf.terms(), variant);
      double[] idf = Fixtures.doubles(v.get("idf"));
      for (int j = 0; j < idf.length; j++) assertEquals(idf[j], tfidf.idf(j), 1e-12, variant);
      SparseMatrix row0 = tfidf.transform(test.subList(0, 1));
      int[] cols = Fixtures.ints(v.get("test_row0").get("columns"));
      double[] vals = Fixtures.doubles(v.get("test_row0").get("values"));
      assertEquals(cols.length, row0.nonZeros(), variant);
      for (int q = 0; q < cols.length; q++) {
        assertEquals(vals[q], row0.get(0, cols[q]), 1e-12, variant);
      }

      Baselines.Predictions p =
          Baselines.tfidfLogReg(
              train,
              java.util.Arrays.copyOfRange(labels, 0, trainRows),
              test,
              2,
              options,
              f.get("c").asDouble());
      assertArrayEquals(Fixtures.ints(v.get("logreg_pred")), p.labels(), variant);
      double[] sklearn = Fixtures.doubles(v.get("logreg_proba"));
      double[] exact = Fixtures.doubles(v.get("logreg_proba_exact"));
      for (int i = 0; i < sklearn.length; i++) {
        assertEquals(sklearn[i], p.probs()[i][1], SKLEARN_PROBA_TOLERANCE, variant);
        assertEquals(exact[i], p.probs()[i][1], EXACT_PROBA_TOLERANCE, variant);
      }
    }
  }

  /** Character n-grams within words, as scikit-learn's char_wb: padded, short words once. */
  @Test
  void characterNgramsStayWithinPaddedWords() {
    var o = new TfidfVectorizer.Options(true, 2, 3, false, 1);
    // " a " is shorter than 4 and as long as 3: its 3-gram is itself, once; " ab " has two.
    assertEquals(
        List.of(" a", "a ", " a ", " a", "ab", "b ", " ab", "ab "),
        TfidfVectorizer.analyze("A \t ab", o));
    assertEquals(
        List.of("the", "cat", "sat", "the cat", "cat sat", "the cat sat"),
        TfidfVectorizer.analyze("The cat sat", new TfidfVectorizer.Options(false, 1, 3, false, 1)));
  }

  @Test
  void logisticRegressionConvergesOnTenThousandSparseRows() {
    // 10k documents x 30k features, 40 non-zeros each, 3 classes: the size of a real TF-IDF
    // baseline. Speed is measured in docs/benchmarks.md (BaselinesBench), not asserted here.
    java.util.SplittableRandom r = new java.util.SplittableRandom(3);
    int n = 10_000, d = 30_000, nnzPerRow = 40, classes = 3;
    int[] rowStart = new int[n + 1];
    int[] cols = new int[n * nnzPerRow];
    double[] vals = new double[n * nnzPerRow];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = r.nextInt(classes);
      java.util.TreeSet<Integer> chosen = new java.util.TreeSet<>();
      while (chosen.size() < nnzPerRow) {
        // a tenth of each row's features come from a class-specific range, the rest are noise
        chosen.add(chosen.size() < 4 ? y[i] * 1000 + r.nextInt(1000) : r.nextInt(d));
      }
      int q = i * nnzPerRow;
      for (int c : chosen) {
        cols[q] = c;
        vals[q++] = 1 / Math.sqrt(nnzPerRow);
      }
      rowStart[i + 1] = q;
    }
    SparseMatrix x = new SparseMatrix(n, d, rowStart, cols, vals);
    LogisticRegression model = LogisticRegression.fit(x, y, classes);
    assertTrue(model.iterations() < 1000, "did not converge");
    assertTrue(Metrics.accuracy(y, model.predict(x)) > 0.9);
  }

  private static double agreement(int[] a, int[] b) {
    int same = 0;
    for (int i = 0; i < a.length; i++) if (a[i] == b[i]) same++;
    return (double) same / a.length;
  }

  @SuppressWarnings("unchecked")
  private static List<String>[] sst2() throws IOException {
    List<String> texts = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    try (InputStream in = BaselinesTest.class.getResourceAsStream("/eval/sst2-dev-300.tsv")) {
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        String[] parts = line.split("\t");
        texts.add(parts[0]);
        labels.add(parts[1]);
      }
    }
    return new List[] {texts, labels};
  }
}
