package dev.whet.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchingTest {
  @TempDir Path dir;

  private static int[] randomLengths(int n, long seed) {
    Random r = new Random(seed);
    int[] l = new int[n];
    for (int i = 0; i < n; i++) {
      l[i] = 5 + r.nextInt(120);
    }
    return l;
  }

  /** Padded tokens of a batch order: each batch pads to its longest row. */
  private static long padded(int[] lengths, List<int[]> batches) {
    long total = 0;
    for (int[] b : batches) {
      int max = 0;
      for (int i : b) {
        max = Math.max(max, lengths[i]);
      }
      total += (long) max * b.length;
    }
    return total;
  }

  @Test
  void lengthGroupedIsAPermutationDeterministicPerSeedAndEpoch() {
    int[] lengths = randomLengths(10_007, 1);
    List<int[]> a = Batching.lengthGrouped(lengths, 32, 42, 0);
    List<int[]> again = Batching.lengthGrouped(lengths, 32, 42, 0);
    List<int[]> nextEpoch = Batching.lengthGrouped(lengths, 32, 42, 1);
    assertEquals(a.size(), again.size());
    for (int i = 0; i < a.size(); i++) {
      assertArrayEquals(a.get(i), again.get(i));
    }
    assertNotEquals(Arrays.toString(a.get(0)), Arrays.toString(nextEpoch.get(0)));
    int[] seen = new int[lengths.length];
    for (int[] b : a) {
      assertTrue(b.length <= 32);
      for (int i : b) {
        seen[i]++;
      }
    }
    for (int s : seen) {
      assertEquals(1, s, "every example exactly once");
    }
  }

  @Test
  void lengthGroupingCutsPaddingAgainstRandomBatches() {
    int[] lengths = randomLengths(10_000, 2);
    long real = Arrays.stream(lengths).asLongStream().sum();
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < lengths.length; i++) {
      idx.add(i);
    }
    java.util.Collections.shuffle(idx, new Random(3));
    List<int[]> random = new ArrayList<>();
    for (int from = 0; from < idx.size(); from += 32) {
      random.add(
          idx.subList(from, Math.min(idx.size(), from + 32)).stream()
              .mapToInt(Integer::intValue)
              .toArray());
    }
    long grouped = padded(lengths, Batching.lengthGrouped(lengths, 32, 7, 0));
    long shuffled = padded(lengths, random);
    // Uniform lengths 5..124: random batches pad to ~2x the real tokens, grouped ones to ~1%.
    assertTrue(grouped < real * 1.05, "grouped " + grouped + " vs real " + real);
    assertTrue(shuffled > real * 1.5, "random " + shuffled + " vs real " + real);
  }

  @Test
  void sequentialCoversInOrder() {
    List<int[]> b = Batching.sequential(10, 4);
    assertEquals(3, b.size());
    assertArrayEquals(new int[] {0, 1, 2, 3}, b.get(0));
    assertArrayEquals(new int[] {8, 9}, b.get(2));
    assertTrue(Batching.sequential(0, 4).isEmpty());
  }
}
