package dev.whet.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.WhetException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Two ranks of a c10d Gloo group on loopback (threads of this JVM, as two processes would). */
@Tag("engine")
class CollectiveTest {
  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Rank r's tensors, filled from r so that sums are checkable. */
  private static List<Tensor> tensors(int rank) {
    float[] a = {1 + rank, 2, 3};
    float[] b = new float[8];
    for (int i = 0; i < b.length; i++) b[i] = i * (rank + 1);
    return List.of(Tensors.fromFloats(a, 3), Tensors.fromFloats(b, 2, 4));
  }

  @Test
  void sumsInFlightTogetherEachEndAsTheSumOverTheRanks() throws Exception {
    int port = freePort();
    // A thread each: the common pool may have one thread on a 2-core machine, and rank 0 waits
    // for rank 1 to join.
    java.util.concurrent.ExecutorService threads =
        java.util.concurrent.Executors.newFixedThreadPool(2);
    List<CompletableFuture<List<float[]>>> ranks =
        List.of(0, 1).stream()
            .map(
                rank ->
                    CompletableFuture.supplyAsync(
                        () -> {
                          try (Collective group =
                              Collective.join("127.0.0.1", port, rank, 2, Duration.ofSeconds(30))) {
                            List<Tensor> ts = tensors(rank);
                            // Both started before either is awaited, as gradient buckets are.
                            Collective.Sum first = group.startSum(ts.get(0));
                            Collective.Sum second = group.startSum(ts.get(1));
                            double[] small = group.sum(new double[] {rank, 0.5});
                            second.await();
                            first.await();
                            return List.of(
                                Tensors.toFloats(ts.get(0)),
                                Tensors.toFloats(ts.get(1)),
                                new float[] {(float) small[0], (float) small[1]});
                          }
                        },
                        threads))
            .toList();
    for (CompletableFuture<List<float[]>> r : ranks) {
      List<float[]> got = r.get(60, TimeUnit.SECONDS);
      assertArrayEquals(new float[] {3, 4, 6}, got.get(0));
      float[] b = new float[8];
      for (int i = 0; i < b.length; i++) b[i] = 3 * i;
      assertArrayEquals(b, got.get(1));
      assertArrayEquals(new float[] {1, 1}, got.get(2));
    }
    threads.shutdown();
  }

  @Test
  void aRankWhoseGroupNeverFormsFailsWithinItsTimeout() throws Exception {
    int port = freePort();
    long t0 = System.nanoTime();
    WhetException e =
        assertThrows(
            WhetException.class,
            () -> Collective.join("127.0.0.1", port, 1, 2, Duration.ofSeconds(3)));
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertTrue(e.getMessage().contains("rank 1 of 2 could not join the group"), e.getMessage());
    assertTrue(seconds < 30, "gave up after " + seconds + " s");
  }
}
