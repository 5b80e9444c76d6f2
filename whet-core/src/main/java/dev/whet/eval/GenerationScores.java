package dev.whet.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Scores of a generated text against a reference: exact match and ROUGE-L. */
public final class GenerationScores {
  private GenerationScores() {}

  /** 1 when the texts are equal after trimming and collapsing whitespace, else 0. */
  public static double exactMatch(String generated, String reference) {
    return normalize(generated).equals(normalize(reference)) ? 1 : 0;
  }

  /**
   * ROUGE-L F1 (Lin 2004) over lowercase word tokens: the longest common subsequence of the two
   * token sequences, as precision over the generated text and recall over the reference, combined
   * as their harmonic mean. 1 for two empty texts, 0 when only one is empty.
   */
  public static double rougeL(String generated, String reference) {
    List<String> g = words(generated);
    List<String> r = words(reference);
    if (g.isEmpty() || r.isEmpty()) {
      return g.isEmpty() && r.isEmpty() ? 1 : 0;
    }
    int[] prev = new int[r.size() + 1];
    int[] cur = new int[r.size() + 1];
    for (String a : g) {
      for (int j = 1; j <= r.size(); j++) {
        cur[j] = a.equals(r.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    int lcs = prev[r.size()];
    if (lcs == 0) {
      return 0;
    }
    double p = (double) lcs / g.size();
    double rec = (double) lcs / r.size();
    return 2 * p * rec / (p + rec);
  }

  private static String normalize(String s) {
    return s.strip().replaceAll("\\s+", " ");
  }

  /** Lowercase runs of letters and digits; punctuation separates words and is dropped. */
  static List<String> words(String s) {
    List<String> out = new ArrayList<>();
    for (String w : s.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
      if (!w.isEmpty()) {
        out.add(w);
      }
    }
    return out;
  }
}
