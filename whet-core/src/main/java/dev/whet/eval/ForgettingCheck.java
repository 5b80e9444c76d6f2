package dev.whet.eval;

import dev.whet.WhetException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Did fine-tuning cost general ability? For encoders the score is the Spearman correlation between
 * the cosine similarity of two sentences' embeddings and their gold similarity on a general
 * sentence-similarity set (STS-B), measured with the base model ({@code before}) and the fine-tuned
 * one ({@code after}).
 *
 * @param task what was measured, e.g. "STS-B test, Spearman (cosine vs gold)"
 * @param before score of the base model
 * @param after score of the fine-tuned model
 * @param drop {@code before - after}; positive means worse
 * @param threshold the largest drop accepted without a flag
 * @param flagged true when {@code drop > threshold}
 */
public record ForgettingCheck(
    String task, double before, double after, double drop, double threshold, boolean flagged) {

  /**
   * Default threshold: a Spearman drop of more than 0.02 (two points) is flagged. Both scores come
   * from the same sentence pairs, so their difference carries little sampling noise; fine-tuning a
   * sentence encoder on one narrow task usually moves STS-B by a point or less when it keeps
   * general ability, and by many points when it does not. Two points catches real loss early
   * without flagging every run.
   */
  public static final double DEFAULT_THRESHOLD = 0.02;

  /** Builds the result from two scores with the default threshold. */
  public static ForgettingCheck of(String task, double before, double after) {
    return of(task, before, after, DEFAULT_THRESHOLD);
  }

  /** Builds the result from two scores. */
  public static ForgettingCheck of(String task, double before, double after, double threshold) {
    double drop = before - after;
    return new ForgettingCheck(task, before, after, drop, threshold, drop > threshold);
  }

  /**
   * Default threshold for language models: general-text perplexity rising by more than 10%, as the
   * log ratio ln(1.1). Adapting to a narrow task raises it a little; much more means the model is
   * losing its general language ability.
   */
  public static final double PERPLEXITY_THRESHOLD = Math.log(1.1);

  /**
   * A language model's check: {@code before} and {@code after} are perplexities (lower is better)
   * and {@code drop} is ln(after / before), positive when the model got worse.
   */
  public static ForgettingCheck ofPerplexity(String task, double before, double after) {
    double drop = Math.log(after / before);
    return new ForgettingCheck(
        task, before, after, drop, PERPLEXITY_THRESHOLD, drop > PERPLEXITY_THRESHOLD);
  }

  /**
   * The STS score of one model: Spearman correlation between cos(first[i], second[i]) and gold[i].
   *
   * @param first embedding of each pair's first sentence
   * @param second embedding of each pair's second sentence
   * @param gold gold similarity per pair (STS-B: 0-5)
   */
  public static double stsSpearman(float[][] first, float[][] second, double[] gold) {
    if (first.length != second.length || first.length != gold.length) {
      throw new IllegalArgumentException("pairs and gold scores differ in number");
    }
    double[] cos = new double[gold.length];
    for (int i = 0; i < gold.length; i++) cos[i] = Correlation.cosine(first[i], second[i]);
    return Correlation.spearman(cos, gold);
  }

  /** One sentence pair with its gold score. */
  public record Pair(String first, String second, double score) {}

  /**
   * Reads an STS-B file in the SentEval layout (tab-separated: genre, file, year, id, score,
   * sentence 1, sentence 2, optional extra columns).
   */
  public static List<Pair> readStsb(Path file) {
    List<Pair> pairs = new ArrayList<>();
    try {
      int lineNo = 0;
      for (String line : Files.readAllLines(file)) {
        lineNo++;
        if (line.isBlank()) continue;
        String[] f = line.split("\t");
        if (f.length < 7) {
          throw new WhetException(
              file + ":" + lineNo + ": expected 7 tab-separated columns, found " + f.length);
        }
        pairs.add(new Pair(f[5], f[6], Double.parseDouble(f[4])));
      }
    } catch (IOException e) {
      throw new WhetException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (NumberFormatException e) {
      throw new WhetException(file + ": score is not a number: " + e.getMessage(), e);
    }
    return pairs;
  }
}
