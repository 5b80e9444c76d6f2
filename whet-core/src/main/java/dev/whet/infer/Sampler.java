package dev.whet.infer;

import java.util.Arrays;
import java.util.Collection;
import java.util.SplittableRandom;

/**
 * Picks the next token from one row of logits: repetition penalty, then greedy argmax or
 * temperature / top-k / top-p sampling. Plain Java on a float array: the work is O(vocab) per
 * token, small beside the forward pass, and easy to check.
 */
final class Sampler {
  private final GenerationOptions options;
  private final SplittableRandom random;

  Sampler(GenerationOptions options) {
    this.options = options;
    this.random = new SplittableRandom(options.seed());
  }

  /**
   * @param logits (vocab) scores of the next token; modified in place
   * @param seen ids already in the prompt or output, for the repetition penalty
   */
  int next(float[] logits, Collection<Long> seen) {
    double penalty = options.repetitionPenalty();
    if (penalty != 1) {
      for (long id : seen) {
        int i = (int) id;
        if (i >= 0 && i < logits.length) {
          logits[i] = (float) (logits[i] > 0 ? logits[i] / penalty : logits[i] * penalty);
        }
      }
    }
    if (options.isGreedy()) {
      return argmax(logits);
    }
    // Candidates sorted by score, highest first (ties: lower id first, for determinism).
    Integer[] order = new Integer[logits.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
    int k = options.topK() > 0 ? Math.min(options.topK(), order.length) : order.length;
    double max = logits[order[0]];
    double[] p = new double[k];
    double sum = 0;
    for (int i = 0; i < k; i++) {
      p[i] = Math.exp((logits[order[i]] - max) / options.temperature());
      sum += p[i];
    }
    // Top-p: keep the shortest head whose probability mass reaches p (at least one token).
    int keep = 0;
    double mass = 0;
    while (keep < k && (keep == 0 || mass < options.topP())) {
      mass += p[keep] / sum;
      keep++;
    }
    double total = 0;
    for (int i = 0; i < keep; i++) {
      total += p[i];
    }
    double r = random.nextDouble() * total;
    for (int i = 0; i < keep; i++) {
      r -= p[i];
      if (r < 0) {
        return order[i];
      }
    }
    return order[keep - 1];
  }

  static int argmax(float[] x) {
    int best = 0;
    for (int i = 1; i < x.length; i++) {
      if (x[i] > x[best]) {
        best = i;
      }
    }
    return best;
  }
}
