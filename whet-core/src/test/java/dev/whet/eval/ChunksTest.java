package dev.whet.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ChunksTest {
  @Test
  void chunkedPassesCoverEveryElementOnceAndSumInChunkOrder() {
    int n = 3 * Chunks.SIZE + 17; // three full chunks and a short one
    Random rng = new Random(7);
    double[] a = new double[n];
    double[] b = new double[n];
    for (int j = 0; j < n; j++) {
      a[j] = rng.nextGaussian();
      b[j] = rng.nextGaussian();
    }
    double inOrder = 0;
    for (int c = 0; c * Chunks.SIZE < n; c++) {
      inOrder += Baselines.dot(a, b, c * Chunks.SIZE, Math.min(n, (c + 1) * Chunks.SIZE));
    }
    // The same bits whatever the threads did; and the plain product to rounding.
    assertEquals(inOrder, Chunks.dot(a, b), 0.0);
    double plain = 0;
    for (int j = 0; j < n; j++) plain += a[j] * b[j];
    assertEquals(plain, Chunks.dot(a, b), 1e-9 * n);

    double[] y = b.clone();
    Chunks.axpy(2.5, a, y);
    double[] expected = new double[n];
    for (int j = 0; j < n; j++) expected[j] = b[j] + 2.5 * a[j];
    assertArrayEquals(expected, y, 0.0);

    int[] visits = new int[n];
    Chunks.forEach(
        n,
        (from, to) -> {
          for (int j = from; j < to; j++) visits[j]++;
        });
    for (int j = 0; j < n; j++) assertEquals(1, visits[j], "element " + j);
    assertEquals(
        Baselines.dot(a, b, 0, 5), Chunks.sum(5, (from, to) -> Baselines.dot(a, b, from, to)), 0.0);
  }
}
