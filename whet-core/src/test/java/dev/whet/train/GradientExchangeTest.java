package dev.whet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whet.engine.Collective;
import dev.whet.engine.Tensors;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Two ranks (threads of this JVM) of a three-layer network, with buckets of one layer each: after
 * two accumulated micro-batches, every rank holds the sum over the ranks of each rank's own
 * accumulated gradients — whether the buckets were sent during the last backward pass (the three
 * layers' are) or after it; a parameter only rank 0 uses gets rank 0's gradient everywhere, and one
 * that no rank uses keeps no gradient.
 */
@Tag("engine")
class GradientExchangeTest {
  static final int WIDTH = 16;
  static final long LAYER_BYTES = WIDTH * WIDTH * Float.BYTES;

  /** The parameters in forward order: never (unused), extra (rank 0's only), w1, w2, w3. */
  static List<Tensor> parameters() {
    List<Tensor> ps = new ArrayList<>();
    ps.add(values(1, 3).requires_grad_(true));
    ps.add(values(2, 5).requires_grad_(true));
    for (int i = 0; i < 3; i++) {
      ps.add(values(3 + i, WIDTH, WIDTH).requires_grad_(true));
    }
    return ps;
  }

  /**
   * Fixed values in [-0.5, 0.5] from {@code seed} (not the global generator, which the ranks'
   * threads share).
   */
  static Tensor values(int seed, long... shape) {
    int n = 1;
    for (long d : shape) n *= (int) d;
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = 0.5f * (float) Math.sin(seed * 7.1 + i * 1.3);
    return Tensors.fromFloats(v, shape);
  }

  /** One micro-batch's backward pass on rank {@code rank}. */
  static void backward(List<Tensor> ps, int rank, int micro) {
    Tensor h = values(100 + 10 * rank + micro, 4, WIDTH);
    for (int i = 2; i < 5; i++) {
      h = torch.tanh(h.matmul(ps.get(i)));
    }
    Tensor loss = h.pow(new Scalar(2)).sum();
    if (rank == 0) {
      loss = loss.add(ps.get(1).pow(new Scalar(3)).sum());
    }
    loss.backward();
  }

  /** Rank {@code rank}'s gradients of two micro-batches, with no exchange. */
  static List<float[]> ownGradients(int rank) {
    List<Tensor> ps = parameters();
    backward(ps, rank, 0);
    backward(ps, rank, 1);
    return ps.stream().map(p -> p.grad().defined() ? Tensors.toFloats(p.grad()) : null).toList();
  }

  record RankResult(List<float[]> grads, int sentDuringBackward, int buckets) {}

  static RankResult exchanged(int rank, int port, boolean overlap) {
    try (Collective group = Collective.join("127.0.0.1", port, rank, 2, Duration.ofSeconds(30))) {
      List<Tensor> ps = parameters();
      GradientExchange exchange = new GradientExchange(group, ps, overlap, LAYER_BYTES);
      backward(ps, rank, 0);
      exchange.beforeLastBackward();
      backward(ps, rank, 1);
      exchange.sendRest();
      double[] ranksWithGradient = group.sum(exchange.hasGradient());
      exchange.awaitSums(ranksWithGradient);
      return new RankResult(
          ps.stream().map(p -> p.grad().defined() ? Tensors.toFloats(p.grad()) : null).toList(),
          exchange.sentDuringBackward(),
          exchange.buckets());
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void everyRankEndsWithTheSumOfTheRanksGradients(boolean overlap) throws Exception {
    int port = DataParallelTest.freePort();
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      List<Future<RankResult>> ranks = new ArrayList<>();
      for (int rank = 0; rank < 2; rank++) {
        int r = rank;
        ranks.add(threads.submit(() -> exchanged(r, port, overlap)));
      }
      List<float[]> zero = ownGradients(0);
      List<float[]> one = ownGradients(1);
      for (int rank = 0; rank < 2; rank++) {
        RankResult got = ranks.get(rank).get(2, TimeUnit.MINUTES);
        // w3, w2, w1 a bucket each; extra and never share the last.
        assertEquals(4, got.buckets());
        // The last bucket waits for the unused parameter: it is sent after the pass.
        int expectedDuring = overlap ? 3 : 0;
        assertEquals(expectedDuring, got.sentDuringBackward(), "rank " + rank);
        assertEquals(null, got.grads().get(0), "nobody's parameter keeps no gradient");
        assertArrayEquals(zero.get(1), got.grads().get(1), "rank 0's gradient alone");
        for (int i = 2; i < 5; i++) {
          float[] sum = new float[zero.get(i).length];
          for (int k = 0; k < sum.length; k++) sum[k] = zero.get(i)[k] + one.get(i)[k];
          assertArrayEquals(sum, got.grads().get(i), 1e-6f, "w" + (i - 1) + " on rank " + rank);
        }
      }
    } finally {
      threads.shutdownNow();
    }
  }
}
