package dev.whet.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * TF-IDF features as scikit-learn's {@code TfidfVectorizer(ngram_range=(1, 2))} with every other
 * default: lower-casing, tokens matching {@code (?u)\b\w\w+\b}, word 1- and 2-grams joined by a
 * space, vocabulary sorted, smooth idf {@code ln((1 + n) / (1 + df)) + 1}, raw term counts times
 * idf, rows L2-normalised. Terms unseen in training are ignored.
 *
 * <p>Java's Unicode {@code \w} and Python's differ on a few rare characters (combining marks,
 * connector punctuation); on ordinary text the vocabularies are identical.
 */
public final class TfidfVectorizer {
  private static final Pattern TOKEN =
      Pattern.compile("\\b\\w\\w+\\b", Pattern.UNICODE_CHARACTER_CLASS);

  private final Map<String, Integer> vocabulary;
  private final double[] idf;

  private TfidfVectorizer(Map<String, Integer> vocabulary, double[] idf) {
    this.vocabulary = vocabulary;
    this.idf = idf;
  }

  /** Learns vocabulary and idf from the training texts. */
  public static TfidfVectorizer fit(List<String> docs) {
    Map<String, Integer> df = new HashMap<>();
    for (String doc : docs) {
      for (String term : new java.util.HashSet<>(analyze(doc))) df.merge(term, 1, Integer::sum);
    }
    // sklearn orders features by Python string comparison, i.e. by code point
    String[] terms = df.keySet().toArray(new String[0]);
    Arrays.sort(terms, TfidfVectorizer::compareCodePoints);
    Map<String, Integer> vocabulary = new HashMap<>(terms.length * 2);
    double[] idf = new double[terms.length];
    for (int j = 0; j < terms.length; j++) {
      vocabulary.put(terms[j], j);
      idf[j] = Math.log((1.0 + docs.size()) / (1.0 + df.get(terms[j]))) + 1;
    }
    return new TfidfVectorizer(vocabulary, idf);
  }

  /** Number of features (distinct terms seen in training). */
  public int size() {
    return idf.length;
  }

  /** Feature index of a term, or -1. */
  public int index(String term) {
    return vocabulary.getOrDefault(term, -1);
  }

  /** Terms in feature order, the same order as scikit-learn's get_feature_names_out(). */
  public List<String> terms() {
    String[] out = new String[idf.length];
    vocabulary.forEach((t, j) -> out[j] = t);
    return Arrays.asList(out);
  }

  /** Idf of feature {@code j}. */
  public double idf(int j) {
    return idf[j];
  }

  /** One L2-normalised TF-IDF row per text. */
  public SparseMatrix transform(List<String> docs) {
    int[] rowStart = new int[docs.size() + 1];
    List<int[]> rowCols = new ArrayList<>(docs.size());
    List<double[]> rowVals = new ArrayList<>(docs.size());
    int nnz = 0;
    for (int i = 0; i < docs.size(); i++) {
      TreeMap<Integer, Integer> counts = new TreeMap<>(); // sorted columns, as CSR likes
      for (String term : analyze(docs.get(i))) {
        Integer j = vocabulary.get(term);
        if (j != null) counts.merge(j, 1, Integer::sum);
      }
      int[] cols = new int[counts.size()];
      double[] vals = new double[counts.size()];
      double norm = 0;
      int t = 0;
      for (Map.Entry<Integer, Integer> e : counts.entrySet()) {
        cols[t] = e.getKey();
        vals[t] = e.getValue() * idf[e.getKey()];
        norm += vals[t] * vals[t];
        t++;
      }
      norm = Math.sqrt(norm);
      if (norm > 0) for (int q = 0; q < vals.length; q++) vals[q] /= norm;
      rowCols.add(cols);
      rowVals.add(vals);
      nnz += cols.length;
      rowStart[i + 1] = nnz;
    }
    int[] columns = new int[nnz];
    double[] values = new double[nnz];
    for (int i = 0; i < docs.size(); i++) {
      System.arraycopy(rowCols.get(i), 0, columns, rowStart[i], rowCols.get(i).length);
      System.arraycopy(rowVals.get(i), 0, values, rowStart[i], rowVals.get(i).length);
    }
    return new SparseMatrix(docs.size(), idf.length, rowStart, columns, values);
  }

  /** The terms of one text: lower-cased tokens, then each adjacent pair joined by a space. */
  public static List<String> analyze(String doc) {
    List<String> tokens = new ArrayList<>();
    Matcher m = TOKEN.matcher(doc.toLowerCase(Locale.ROOT));
    while (m.find()) tokens.add(m.group());
    List<String> terms = new ArrayList<>(tokens.size() * 2);
    terms.addAll(tokens);
    for (int i = 0; i + 1 < tokens.size(); i++) terms.add(tokens.get(i) + " " + tokens.get(i + 1));
    return terms;
  }

  private static int compareCodePoints(String a, String b) {
    int i = 0, j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i), cb = b.codePointAt(j);
      if (ca != cb) return Integer.compare(ca, cb);
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }
}
