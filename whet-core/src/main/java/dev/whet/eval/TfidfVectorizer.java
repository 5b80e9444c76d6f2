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
 * TF-IDF features as scikit-learn's {@code TfidfVectorizer}: lower-casing; word n-grams of tokens
 * matching {@code (?u)\b\w\w+\b} joined by a space, or character n-grams inside words padded with a
 * space ({@code analyzer="char_wb"}); terms in fewer than {@code min_df} training texts dropped;
 * vocabulary sorted; smooth idf {@code ln((1 + n) / (1 + df)) + 1}; term counts (or {@code 1 +
 * ln(count)} with {@code sublinear_tf}) times idf; rows L2-normalised. Terms unseen in training are
 * ignored.
 *
 * <p>Java's Unicode {@code \w} and Python's differ on a few rare characters (combining marks,
 * connector punctuation); on ordinary text the vocabularies are identical.
 */
public final class TfidfVectorizer {
  // Python's str.split(): runs of Unicode whitespace.
  private static final Pattern WHITESPACE =
      Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);

  private static final Pattern TOKEN =
      Pattern.compile("\\b\\w\\w+\\b", Pattern.UNICODE_CHARACTER_CLASS);

  /**
   * What a vectorizer extracts, in scikit-learn's parameter names.
   *
   * @param charWb character n-grams within words ({@code analyzer="char_wb"}), else word n-grams
   * @param minN smallest n-gram
   * @param maxN largest n-gram
   * @param sublinearTf {@code 1 + ln(count)} instead of the count
   * @param minDf least number of training texts a term must appear in
   */
  public record Options(boolean charWb, int minN, int maxN, boolean sublinearTf, int minDf) {
    /** Word 1–2-grams with scikit-learn's other defaults. */
    public static final Options WORDS = new Options(false, 1, 2, false, 1);

    public Options {
      if (minN < 1 || maxN < minN || minDf < 1) {
        throw new IllegalArgumentException("bad n-gram range or min_df: " + minN + ".." + maxN);
      }
    }

    /** "word 1–2-grams, sublinear tf, min_df 2": for the report. */
    public String describe() {
      return (charWb ? "character " : "word ")
          + minN
          + "–"
          + maxN
          + "-grams"
          + (sublinearTf ? ", sublinear tf" : "")
          + (minDf > 1 ? ", min_df " + minDf : "");
    }
  }

  private final Options options;
  private final Map<String, Integer> vocabulary;
  private final double[] idf;

  private TfidfVectorizer(Options options, Map<String, Integer> vocabulary, double[] idf) {
    this.options = options;
    this.vocabulary = vocabulary;
    this.idf = idf;
  }

  /** Learns vocabulary and idf from the training texts: word 1–2-grams, other defaults. */
  public static TfidfVectorizer fit(List<String> docs) {
    return fit(docs, Options.WORDS);
  }

  /** Learns vocabulary and idf from the training texts. */
  public static TfidfVectorizer fit(List<String> docs, Options options) {
    Map<String, Integer> df = new HashMap<>();
    for (String doc : docs) {
      for (String term : new java.util.HashSet<>(analyze(doc, options))) {
        df.merge(term, 1, Integer::sum);
      }
    }
    df.values().removeIf(n -> n < options.minDf());
    // sklearn orders features by Python string comparison, i.e. by code point
    String[] terms = df.keySet().toArray(new String[0]);
    Arrays.sort(terms, TfidfVectorizer::compareCodePoints);
    Map<String, Integer> vocabulary = new HashMap<>(terms.length * 2);
    double[] idf = new double[terms.length];
    for (int j = 0; j < terms.length; j++) {
      vocabulary.put(terms[j], j);
      idf[j] = Math.log((1.0 + docs.size()) / (1.0 + df.get(terms[j]))) + 1;
    }
    return new TfidfVectorizer(options, vocabulary, idf);
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
      for (String term : analyze(docs.get(i), options)) {
        Integer j = vocabulary.get(term);
        if (j != null) counts.merge(j, 1, Integer::sum);
      }
      int[] cols = new int[counts.size()];
      double[] vals = new double[counts.size()];
      double norm = 0;
      int t = 0;
      for (Map.Entry<Integer, Integer> e : counts.entrySet()) {
        cols[t] = e.getKey();
        double tf = options.sublinearTf() ? 1 + Math.log(e.getValue()) : e.getValue();
        vals[t] = tf * idf[e.getKey()];
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

  /** The terms of one text: word 1–2-grams. */
  public static List<String> analyze(String doc) {
    return analyze(doc, Options.WORDS);
  }

  /** The terms of one text, lower-cased, in scikit-learn's order. */
  public static List<String> analyze(String doc, Options options) {
    String lower = doc.toLowerCase(Locale.ROOT);
    return options.charWb() ? charWbGrams(lower, options) : wordGrams(lower, options);
  }

  /** Tokens, then every n-gram of them joined by a space, n from minN to maxN. */
  private static List<String> wordGrams(String text, Options o) {
    List<String> tokens = new ArrayList<>();
    Matcher m = TOKEN.matcher(text);
    while (m.find()) tokens.add(m.group());
    List<String> terms = new ArrayList<>(tokens.size() * (o.maxN() - o.minN() + 1));
    for (int n = o.minN(); n <= o.maxN(); n++) {
      for (int i = 0; i + n <= tokens.size(); i++) {
        terms.add(n == 1 ? tokens.get(i) : String.join(" ", tokens.subList(i, i + n)));
      }
    }
    return terms;
  }

  /**
   * For each whitespace-separated word padded with a space on both sides, its character n-grams
   * (code points), n from minN to maxN; a padded word shorter than n gives itself once, and no
   * longer n-grams.
   */
  private static List<String> charWbGrams(String text, Options o) {
    List<String> terms = new ArrayList<>();
    for (String word : WHITESPACE.split(text.strip())) {
      if (word.isEmpty()) continue;
      int[] w = (" " + word + " ").codePoints().toArray();
      for (int n = o.minN(); n <= o.maxN(); n++) {
        if (w.length <= n) {
          terms.add(new String(w, 0, w.length));
          break;
        }
        for (int i = 0; i + n <= w.length; i++) terms.add(new String(w, i, n));
      }
    }
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
