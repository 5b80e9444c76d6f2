package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The micro-batcher under concurrent callers: results, order, batch limits, errors, overload. */
class MicroBatcherTest {
  /** Doubles each number; records the size of every call. */
  static final class Doubler implements MicroBatcher.BatchFunction<Integer, Integer> {
    final List<Integer> calls = Collections.synchronizedList(new ArrayList<>());
    final List<List<Integer>> batches = Collections.synchronizedList(new ArrayList<>());
    volatile CountDownLatch gate;

    @Override
    public List<Integer> apply(List<Integer> items) throws Exception {
      calls.add(items.size());
      batches.add(List.copyOf(items));
      CountDownLatch g = gate;
      if (g != null) {
        g.await(10, TimeUnit.SECONDS);
      }
      for (int x : items) {
        if (x < 0) {
          throw new IllegalArgumentException("negative input " + x);
        }
      }
      return items.stream().map(x -> 2 * x).toList();
    }
  }

  @Test
  void concurrentCallersEachGetTheirOwnResultsInOrderAndCallsShareBatches() throws Exception {
    Doubler f = new Doubler();
    try (MicroBatcher<Integer, Integer> b =
            new MicroBatcher<>("test", 16, Duration.ofMillis(2), 10_000, f, null);
        ExecutorService pool = Executors.newFixedThreadPool(24)) {
      List<Future<Boolean>> checks = new ArrayList<>();
      for (int t = 0; t < 24; t++) {
        int thread = t;
        checks.add(
            pool.submit(
                () -> {
                  for (int r = 0; r < 50; r++) {
                    int n = 1 + ThreadLocalRandom.current().nextInt(4);
                    List<Integer> in = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                      in.add(thread * 100_000 + r * 10 + i);
                    }
                    List<Integer> out = b.process("p", in, Duration.ofSeconds(30));
                    if (!out.equals(in.stream().map(x -> 2 * x).toList())) {
                      return false;
                    }
                  }
                  return true;
                }));
      }
      for (Future<Boolean> c : checks) {
        assertTrue(c.get(60, TimeUnit.SECONDS));
      }
    }
    assertTrue(f.calls.stream().allMatch(n -> n <= 16), "batch sizes " + f.calls);
    assertTrue(f.calls.stream().anyMatch(n -> n > 4), "no call combined requests: " + f.calls);
    assertTrue(f.calls.size() < 24 * 50, f.calls.size() + " calls for 1200 requests");
  }

  @Test
  void aBadRequestFailsAloneWhileTheOthersInItsBatchSucceed() throws Exception {
    Doubler f = new Doubler();
    f.gate = new CountDownLatch(1);
    try (MicroBatcher<Integer, Integer> b =
        new MicroBatcher<>("test", 32, Duration.ofMillis(1), 100, f, null)) {
      // The first request holds the worker, so the next three queue up and form one batch.
      CompletableFuture<List<Integer>> first = b.submit("p", List.of(1));
      waitFor(() -> f.calls.size() == 1);
      CompletableFuture<List<Integer>> good1 = b.submit("p", List.of(2, 3));
      CompletableFuture<List<Integer>> bad = b.submit("p", List.of(4, -5));
      CompletableFuture<List<Integer>> good2 = b.submit("p", List.of(6));
      f.gate.countDown();
      assertEquals(List.of(2), first.get(10, TimeUnit.SECONDS));
      assertEquals(List.of(4, 6), good1.get(10, TimeUnit.SECONDS));
      assertEquals(List.of(12), good2.get(10, TimeUnit.SECONDS));
      ExecutionException e = assertThrows(ExecutionException.class, () -> bad.get(10, SECONDS));
      assertTrue(e.getCause() instanceof IllegalArgumentException, e.toString());
      // One combined call (5 items) that failed, then each request alone.
      assertEquals(List.of(1, 5, 2, 2, 1), f.calls);
    }
  }

  @Test
  void aFullQueueRefusesAtOnceAndAcceptsAgainOnceDrained() throws Exception {
    Doubler f = new Doubler();
    f.gate = new CountDownLatch(1);
    try (MicroBatcher<Integer, Integer> b =
        new MicroBatcher<>("test", 4, Duration.ofMillis(1), 6, f, null)) {
      CompletableFuture<List<Integer>> running = b.submit("p", List.of(0));
      waitFor(() -> f.calls.size() == 1);
      List<CompletableFuture<List<Integer>>> queued = new ArrayList<>();
      for (int i = 1; i <= 3; i++) {
        queued.add(b.submit("p" + i, List.of(i, i))); // three projects: no one's share is full
      }
      assertEquals(6, b.queued());
      MicroBatcher.Overloaded e =
          assertThrows(MicroBatcher.Overloaded.class, () -> b.submit("p", List.of(9)));
      assertTrue(e.getMessage().contains("6 inputs queued"), e.getMessage());
      f.gate.countDown();
      running.get(10, TimeUnit.SECONDS);
      for (int i = 0; i < 3; i++) {
        assertEquals(List.of(2 * (i + 1), 2 * (i + 1)), queued.get(i).get(10, TimeUnit.SECONDS));
      }
      assertEquals(List.of(18), b.process("p", List.of(9), Duration.ofSeconds(10)));
      // Batches never exceed 4 items: the third pair waited for the next call.
      assertTrue(f.calls.stream().allMatch(n -> n <= 4), f.calls.toString());
    }
  }

  @Test
  void aCallerThatTimesOutIsToldToRetryAndIsSkipped() throws Exception {
    Doubler f = new Doubler();
    f.gate = new CountDownLatch(1);
    try (MicroBatcher<Integer, Integer> b =
        new MicroBatcher<>("test", 4, Duration.ofMillis(1), 100, f, null)) {
      b.submit("p", List.of(1));
      waitFor(() -> f.calls.size() == 1);
      assertThrows(
          MicroBatcher.Overloaded.class, () -> b.process("p", List.of(2), Duration.ofMillis(50)));
      f.gate.countDown();
      assertEquals(List.of(6), b.process("p", List.of(3), Duration.ofSeconds(10)));
      assertEquals(List.of(1, 1), f.calls, "the abandoned request was not computed");
    }
  }

  @Test
  void closingAnswersWhatIsQueuedThenRunsOnCloseAndRefusesNewRequests() throws Exception {
    Doubler f = new Doubler();
    f.gate = new CountDownLatch(1);
    AtomicBoolean closedModel = new AtomicBoolean();
    MicroBatcher<Integer, Integer> b =
        new MicroBatcher<>("test", 4, Duration.ofMillis(1), 100, f, () -> closedModel.set(true));
    CompletableFuture<List<Integer>> a = b.submit("p", List.of(1));
    waitFor(() -> f.calls.size() == 1);
    CompletableFuture<List<Integer>> c = b.submit("p", List.of(2));
    b.close();
    assertThrows(MicroBatcher.Closed.class, () -> b.submit("p", List.of(3)));
    f.gate.countDown();
    assertEquals(List.of(2), a.get(10, TimeUnit.SECONDS));
    assertEquals(List.of(4), c.get(10, TimeUnit.SECONDS));
    assertTrue(b.awaitTermination(Duration.ofSeconds(10)));
    assertTrue(closedModel.get());
  }

  @Test
  void aFunctionThatReturnsTheWrongNumberOfResultsFailsItsCallers() {
    MicroBatcher.BatchFunction<Integer, Integer> broken = items -> List.of(1);
    try (MicroBatcher<Integer, Integer> b =
        new MicroBatcher<>("broken", 4, Duration.ofMillis(1), 100, broken, null)) {
      Exception e =
          assertThrows(
              IllegalStateException.class,
              () -> b.process("p", List.of(1, 2), Duration.ofSeconds(5)));
      assertTrue(e.getMessage().contains("1 results for 2 inputs"), e.getMessage());
    }
  }

  /**
   * Issue 16, item 10: a request larger than a batch runs in chunks with the requests that arrived
   * meanwhile in between, so a one-input request waits for one chunk, not for all of them.
   */
  @Test
  void aLargeRequestRunsInChunksWithSmallOnesBetween() throws Exception {
    Doubler f = new Doubler();
    f.gate = new CountDownLatch(1);
    try (MicroBatcher<Integer, Integer> b =
        new MicroBatcher<>("test", 4, Duration.ofMillis(1), 100, f, null)) {
      List<Integer> big = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        big.add(i);
      }
      CompletableFuture<List<Integer>> large = b.submit("p", big);
      waitFor(() -> f.calls.size() == 1); // its first chunk is being computed
      CompletableFuture<List<Integer>> small = b.submit("p", List.of(100));
      CountDownLatch g = f.gate;
      f.gate = null;
      g.countDown();
      assertEquals(List.of(200), small.get(10, TimeUnit.SECONDS));
      List<Integer> expected = big.stream().map(x -> 2 * x).toList();
      assertEquals(expected, large.get(10, TimeUnit.SECONDS), "chunks reassembled in order");
      assertEquals(List.of(4, 1, 4, 2), f.calls, "the small request ran after one chunk");
      assertEquals(0, b.queued());
    }
  }

  @Test
  void aLargeRequestWhoseCallerGaveUpStopsAtItsNextChunk() throws Exception {
    Doubler f = new Doubler();
    f.gate = new CountDownLatch(1);
    try (MicroBatcher<Integer, Integer> b =
        new MicroBatcher<>("test", 2, Duration.ofMillis(1), 100, f, null)) {
      CompletableFuture<List<Integer>> large =
          b.submit("p", List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
      waitFor(() -> f.calls.size() == 1);
      large.cancel(false); // the caller timed out or went away
      CountDownLatch g = f.gate;
      f.gate = null;
      g.countDown();
      assertEquals(List.of(4), b.process("p", List.of(2), Duration.ofSeconds(10)));
      // The worker drops the abandoned chunks on its next turn, which may come after the small
      // request's answer.
      waitFor(() -> b.queued() == 0);
      assertEquals(List.of(2, 1), f.calls, "no chunk after the first was computed");
    }
  }

  @Test
  void closingFinishesALargeRequestInProgress() throws Exception {
    Doubler f = new Doubler();
    f.gate = new CountDownLatch(1);
    AtomicBoolean closedModel = new AtomicBoolean();
    MicroBatcher<Integer, Integer> b =
        new MicroBatcher<>("test", 2, Duration.ofMillis(1), 100, f, () -> closedModel.set(true));
    CompletableFuture<List<Integer>> large = b.submit("p", List.of(1, 2, 3, 4, 5));
    waitFor(() -> f.calls.size() == 1);
    b.close();
    CountDownLatch g = f.gate;
    f.gate = null;
    g.countDown();
    assertEquals(List.of(2, 4, 6, 8, 10), large.get(10, TimeUnit.SECONDS));
    assertTrue(b.awaitTermination(Duration.ofSeconds(10)));
    assertTrue(closedModel.get());
    assertEquals(List.of(2, 2, 1), f.calls);
  }

  private static final TimeUnit SECONDS = TimeUnit.SECONDS;

  /**
   * Issue 16, item 10: project "a" queues ten full batches while the model is busy; project "b"'s
   * one request runs in the next batch, not after a's ten.
   */
  @Test
  void projectsTakeTurns() throws Exception {
    Doubler f = new Doubler();
    f.gate = new CountDownLatch(1);
    try (MicroBatcher<Integer, Integer> b =
        new MicroBatcher<>("test", 2, Duration.ofMillis(1), 100, f, null)) {
      CompletableFuture<List<Integer>> busy = b.submit("a", List.of(0, 0));
      waitFor(() -> f.calls.size() == 1);
      List<CompletableFuture<List<Integer>>> many = new ArrayList<>();
      for (int i = 1; i <= 10; i++) {
        many.add(b.submit("a", List.of(i, i)));
      }
      CompletableFuture<List<Integer>> one = b.submit("b", List.of(1000, 1000));
      CountDownLatch g = f.gate;
      f.gate = null;
      g.countDown();
      assertEquals(List.of(2000, 2000), one.get(10, TimeUnit.SECONDS));
      for (var m : many) {
        m.get(10, TimeUnit.SECONDS);
      }
      busy.get(10, TimeUnit.SECONDS);
      assertEquals(List.of(0, 0), f.batches.get(0));
      assertEquals(List.of(1000, 1000), f.batches.get(1), "a was served last: b's turn");
      assertEquals(List.of(1, 1), f.batches.get(2));
      assertEquals(List.of(2, 2), f.batches.get(3));
    }
  }

  /** One project may fill three quarters of the queue; another still finds room. */
  @Test
  void oneProjectCannotFillTheQueue() throws Exception {
    Doubler f = new Doubler();
    f.gate = new CountDownLatch(1);
    try (MicroBatcher<Integer, Integer> b =
        new MicroBatcher<>("test", 2, Duration.ofMillis(1), 8, f, null)) {
      CompletableFuture<List<Integer>> busy = b.submit("a", List.of(0));
      waitFor(() -> f.calls.size() == 1);
      List<CompletableFuture<List<Integer>>> queued = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        queued.add(b.submit("a", List.of(i, i))); // 6 items: a's share of 8
      }
      MicroBatcher.Overloaded refused =
          assertThrows(MicroBatcher.Overloaded.class, () -> b.submit("a", List.of(9)));
      assertTrue(
          refused.getMessage().contains("your project has 6 inputs waiting"), refused.getMessage());
      CompletableFuture<List<Integer>> other = b.submit("b", List.of(5, 5));
      CountDownLatch g = f.gate;
      f.gate = null;
      g.countDown();
      assertEquals(List.of(10, 10), other.get(10, TimeUnit.SECONDS));
      for (var q : queued) {
        q.get(10, TimeUnit.SECONDS);
      }
      busy.get(10, TimeUnit.SECONDS);
      assertEquals(0, b.queued());
    }
  }

  /**
   * A large request is not starved by a stream of small ones: its chunks alternate with their
   * batches.
   */
  @Test
  void aLargeRequestAlternatesWithOthers() throws Exception {
    Doubler f = new Doubler();
    f.gate = new CountDownLatch(1);
    try (MicroBatcher<Integer, Integer> b =
        new MicroBatcher<>("test", 2, Duration.ofMillis(1), 100, f, null)) {
      CompletableFuture<List<Integer>> large = b.submit("a", List.of(1, 2, 3, 4, 5, 6));
      waitFor(() -> f.calls.size() == 1);
      List<CompletableFuture<List<Integer>>> small = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        small.add(b.submit("b", List.of(100 + i, 100 + i)));
      }
      CountDownLatch g = f.gate;
      f.gate = null;
      g.countDown();
      assertEquals(List.of(2, 4, 6, 8, 10, 12), large.get(10, TimeUnit.SECONDS));
      for (var s : small) {
        s.get(10, TimeUnit.SECONDS);
      }
      assertEquals(
          List.of(
              List.of(1, 2),
              List.of(100, 100),
              List.of(3, 4),
              List.of(101, 101),
              List.of(5, 6),
              List.of(102, 102),
              List.of(103, 103)),
          f.batches);
    }
  }

  private static void waitFor(java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("condition not reached in 10 s");
      }
      Thread.sleep(1);
    }
  }
}
