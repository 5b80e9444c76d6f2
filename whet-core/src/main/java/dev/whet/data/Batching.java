package dev.whet.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Batch order (padding is {@code train.EncodedSet}'s). Training order is a pure function of (seed,
 * epoch), so a resumed run sees exactly the batches it would have seen.
 */
public final class Batching {
  /**
   * Batches per sorting chunk: large enough to find similar lengths, small enough to stay random.
   */
  static final int CHUNK_BATCHES = 50;

  private Batching() {}

  /**
   * Shuffled batches of example indices in which lengths are similar, so padding to the longest in
   * the batch wastes little: shuffle all indices, sort each chunk of {@value #CHUNK_BATCHES}
   * batches by length, cut it into batches, then shuffle the batch order. The last batch may be
   * smaller.
   *
   * @param lengths token length of each example
   * @param batchSize examples per batch
   * @param seed the run's seed
   * @param epoch 0-based epoch; each epoch gets a different order
   */
  public static List<int[]> lengthGrouped(int[] lengths, int batchSize, long seed, int epoch) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be positive");
    }
    Random rng = new Random(seed * 1_000_003L + epoch);
    int n = lengths.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Collections.shuffle(Arrays.asList(order), rng);
    int chunk = batchSize * CHUNK_BATCHES;
    List<int[]> batches = new ArrayList<>();
    for (int from = 0; from < n; from += chunk) {
      int to = Math.min(n, from + chunk);
      // Stable sort: ties keep their shuffled order, so equal lengths still mix.
      Arrays.sort(order, from, to, (a, b) -> Integer.compare(lengths[a], lengths[b]));
      for (int b = from; b < to; b += batchSize) {
        int[] batch = new int[Math.min(batchSize, to - b)];
        for (int k = 0; k < batch.length; k++) {
          batch[k] = order[b + k];
        }
        batches.add(batch);
      }
    }
    Collections.shuffle(batches, rng);
    return batches;
  }

  /** Batches of consecutive indices {@code 0..n-1} in order, for evaluation and prediction. */
  public static List<int[]> sequential(int n, int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be positive");
    }
    List<int[]> batches = new ArrayList<>();
    for (int from = 0; from < n; from += batchSize) {
      int[] batch = new int[Math.min(batchSize, n - from)];
      for (int k = 0; k < batch.length; k++) {
        batch[k] = from + k;
      }
      batches.add(batch);
    }
    return batches;
  }
}
