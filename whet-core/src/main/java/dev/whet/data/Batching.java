package dev.whet.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/** Placeholder until the data branch lands. */
public final class Batching {
  private Batching() {}

  public static List<int[]> lengthGrouped(int[] lengths, int batchSize, long seed, int epoch) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < lengths.length; i++) {
      order.add(i);
    }
    Random r = new Random(seed * 1_000_003L + epoch);
    Collections.shuffle(order, r);
    int chunk = batchSize * 50;
    List<int[]> batches = new ArrayList<>();
    for (int s = 0; s < order.size(); s += chunk) {
      List<Integer> part = new ArrayList<>(order.subList(s, Math.min(order.size(), s + chunk)));
      part.sort((a, b) -> Integer.compare(lengths[a], lengths[b]));
      for (int b = 0; b < part.size(); b += batchSize) {
        batches.add(
            part.subList(b, Math.min(part.size(), b + batchSize)).stream()
                .mapToInt(Integer::intValue)
                .toArray());
      }
    }
    Collections.shuffle(batches, r);
    return batches;
  }

  public static List<int[]> sequential(int n, int batchSize) {
    List<int[]> batches = new ArrayList<>();
    for (int s = 0; s < n; s += batchSize) {
      int[] b = new int[Math.min(batchSize, n - s)];
      for (int i = 0; i < b.length; i++) {
        b[i] = s + i;
      }
      batches.add(b);
    }
    return batches;
  }
}
