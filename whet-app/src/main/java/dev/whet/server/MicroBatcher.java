package dev.whet.server;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs the requests of concurrent callers through one batch function, several at a time: a single
 * worker thread takes the oldest request, gathers whatever else is queued (waiting at most {@code
 * maxWait} after that request arrived) up to {@code maxBatch} items, makes one call, and hands each
 * caller back its own slice of the results, in order.
 *
 * <p>A request of at most {@code maxBatch} items stays together. A larger one runs in chunks of
 * {@code maxBatch}, and the requests that arrived meanwhile run between its chunks, so a 2,048-text
 * request delays a one-text request by one chunk, not by all of its work; a large request whose
 * caller gave up stops at its next chunk. When a combined call fails, each request in it is retried
 * alone, so one bad request fails only itself. The queue is bounded in items; a request that does
 * not fit is refused at once ({@link Overloaded}) rather than left to wait. The worker is the only
 * thread that calls the batch function, so a model that is not thread-safe needs no lock.
 *
 * @param <I> one input item (e.g. a text)
 * @param <O> its result (e.g. an embedding)
 */
public final class MicroBatcher<I, O> implements AutoCloseable {
  /** The work: one output per input, in the same order. */
  @FunctionalInterface
  public interface BatchFunction<I, O> {
    List<O> apply(List<I> items) throws Exception;
  }

  /** The queue is full: the caller should retry later (HTTP 503). */
  public static final class Overloaded extends RuntimeException {
    Overloaded(String message) {
      super(message);
    }
  }

  /** The batcher was closed (its model unloaded) before the request was queued. */
  public static final class Closed extends RuntimeException {
    Closed(String message) {
      super(message);
    }
  }

  /** A request: its items, its results so far (chunks of a large one), its caller's future. */
  private static final class Job<I, O> {
    final List<I> items;
    final CompletableFuture<List<O>> result;
    final long queuedAt;
    final List<O> done = new ArrayList<>();

    Job(List<I> items, CompletableFuture<List<O>> result, long queuedAt) {
      this.items = items;
      this.result = result;
      this.queuedAt = queuedAt;
    }

    /** The items not computed yet. */
    List<I> remaining() {
      return items.subList(done.size(), items.size());
    }
  }

  /** The part of a job one call computes. */
  private record Slice<I, O>(Job<I, O> job, List<I> items) {}

  private final String name;
  private final int maxBatch;
  private final long maxWaitNanos;
  private final int maxQueuedItems;
  private final BatchFunction<I, O> function;
  private final Runnable onClose;
  private final LinkedBlockingQueue<Job<I, O>> queue = new LinkedBlockingQueue<>();
  private final Thread worker;
  private final Object lock = new Object();
  // Guarded by lock: items waiting in the queue, and whether new requests are refused.
  private int queuedItems;
  private boolean closed;
  private final Job<I, O> end = new Job<>(List.of(), null, 0);
  // Only the worker touches these: a request taken from the queue that did not fit the last
  // batch, and a large request between two of its chunks.
  private Job<I, O> carried;
  private Job<I, O> resumable;

  /**
   * @param name for the worker thread and error messages (e.g. the model)
   * @param maxBatch most items per call (a larger single request still runs, alone)
   * @param maxWait how long the oldest queued request may wait for others to join it
   * @param maxQueuedItems most items waiting; a request beyond it is refused with {@link
   *     Overloaded}
   * @param onClose run on the worker thread after the last request, e.g. to free the model; may be
   *     null
   */
  public MicroBatcher(
      String name,
      int maxBatch,
      Duration maxWait,
      int maxQueuedItems,
      BatchFunction<I, O> function,
      Runnable onClose) {
    if (maxBatch < 1 || maxQueuedItems < 1) {
      throw new IllegalArgumentException("maxBatch and maxQueuedItems must be at least 1");
    }
    this.name = name;
    this.maxBatch = maxBatch;
    this.maxWaitNanos = maxWait.toNanos();
    this.maxQueuedItems = maxQueuedItems;
    this.function = function;
    this.onClose = onClose;
    this.worker = new Thread(this::work, "batcher-" + name);
    worker.setDaemon(true);
    worker.start();
  }

  /**
   * Queues {@code items} as one request; the future completes with their results in order, or with
   * the batch function's exception.
   *
   * @throws Overloaded when the queue has no room for them
   * @throws Closed when the batcher is closed
   */
  public CompletableFuture<List<O>> submit(List<I> items) {
    CompletableFuture<List<O>> result = new CompletableFuture<>();
    if (items.isEmpty()) {
      result.complete(List.of());
      return result;
    }
    synchronized (lock) {
      if (closed) {
        throw new Closed(name + " was unloaded");
      }
      // An oversized request is let in when nothing else waits, so it is not refused forever.
      if (queuedItems > 0 && queuedItems + items.size() > maxQueuedItems) {
        throw new Overloaded(
            "too many requests are waiting for "
                + name
                + " ("
                + queuedItems
                + " inputs queued); retry shortly");
      }
      queuedItems += items.size();
      queue.add(new Job<>(List.copyOf(items), result, System.nanoTime()));
    }
    return result;
  }

  /**
   * Submits and waits, at most {@code timeout}.
   *
   * @throws Overloaded when the queue is full or the result did not come in time
   */
  public List<O> process(List<I> items, Duration timeout) throws Exception {
    CompletableFuture<List<O>> f = submit(items);
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      f.cancel(false);
      throw new Overloaded(name + " did not answer within " + timeout.toSeconds() + " s; retry");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Exception ex) {
        throw ex;
      }
      throw (Error) cause;
    }
  }

  /** Items waiting now (not counting the batch being computed). */
  public int queued() {
    synchronized (lock) {
      return queuedItems;
    }
  }

  /**
   * Refuses new requests, lets the worker finish those already queued, then runs {@code onClose} on
   * the worker thread. Returns at once.
   */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      // Queued under the lock after every accepted request: the worker stops when it gets here.
      queue.add(end);
    }
  }

  /** Waits for the worker to finish after {@link #close()} (for tests and shutdown). */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    worker.join(timeout.toMillis());
    return !worker.isAlive();
  }

  /** Takes the next request, waiting as long as it takes (close() queues the end marker). */
  private Job<I, O> take() {
    while (true) {
      try {
        return queue.take();
      } catch (InterruptedException e) {
        // nobody should interrupt the worker; keep serving
      }
    }
  }

  private void work() {
    try {
      while (true) {
        Job<I, O> first = next();
        if (first == end) {
          return;
        }
        run(gather(first));
      }
    } finally {
      if (onClose != null) {
        onClose.run();
      }
    }
  }

  /**
   * The next request to start a batch with: one carried over from the last gather, else one that
   * waits in the queue (before a large request's next chunk: that is the interleaving), else the
   * large request, else whatever comes.
   */
  private Job<I, O> next() {
    if (carried != null && (carried != end || resumable == null)) {
      Job<I, O> c = carried;
      carried = null;
      return c;
    }
    if (resumable != null) {
      Job<I, O> waiting = carried != null ? null : queue.poll();
      if (waiting != null && waiting != end) {
        return waiting;
      }
      if (waiting == end) {
        carried = end; // finish the large request first, then stop
      }
      Job<I, O> r = resumable;
      resumable = null;
      return r;
    }
    return take();
  }

  /**
   * The first job (its next chunk, when it is larger than a batch) plus whatever joins within the
   * wait, up to maxBatch items.
   */
  private List<Slice<I, O>> gather(Job<I, O> first) {
    List<Slice<I, O>> batch = new ArrayList<>();
    List<I> head = first.remaining();
    if (head.size() > maxBatch) {
      batch.add(new Slice<>(first, head.subList(0, maxBatch)));
      return batch; // a full chunk: nothing else fits
    }
    batch.add(new Slice<>(first, head));
    int items = head.size();
    long deadline = first.queuedAt + maxWaitNanos;
    while (items < maxBatch) {
      Job<I, O> next = queue.poll();
      if (next == null) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        try {
          next = queue.poll(left, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          break;
        }
        if (next == null) {
          break;
        }
      }
      if (next == end || items + next.remaining().size() > maxBatch) {
        carried = next;
        break;
      }
      batch.add(new Slice<>(next, next.remaining()));
      items += next.remaining().size();
    }
    return batch;
  }

  private void run(List<Slice<I, O>> batch) {
    // Callers that gave up (timed out) are dropped before the work is done, a large request's
    // remaining chunks with them.
    List<Slice<I, O>> live = new ArrayList<>();
    synchronized (lock) {
      for (Slice<I, O> s : batch) {
        boolean gaveUp = s.job().result.isDone();
        queuedItems -= gaveUp ? s.job().remaining().size() : s.items().size();
        if (!gaveUp) {
          live.add(s);
        }
      }
    }
    // A carried job is out of the queue but still waiting, so it stays counted; so do the
    // remaining chunks of a large one.
    if (live.isEmpty()) {
      return;
    }
    List<I> items = new ArrayList<>();
    for (Slice<I, O> s : live) {
      items.addAll(s.items());
    }
    List<O> out;
    try {
      out = call(items);
    } catch (Throwable t) {
      if (live.size() == 1) {
        fail(live.get(0), t);
        return;
      }
      // Someone's input broke the combined call: retry each alone so only that one fails.
      for (Slice<I, O> s : live) {
        try {
          progress(s, call(s.items()));
        } catch (Throwable single) {
          fail(s, single);
        }
      }
      return;
    }
    int at = 0;
    for (Slice<I, O> s : live) {
      int n = s.items().size();
      progress(s, out.subList(at, at + n));
      at += n;
    }
  }

  /** Records a slice's results; completes its request, or sets it aside for its next chunk. */
  private void progress(Slice<I, O> s, List<O> results) {
    Job<I, O> j = s.job();
    j.done.addAll(results);
    if (j.done.size() == j.items.size()) {
      j.result.complete(Collections.unmodifiableList(new ArrayList<>(j.done)));
    } else {
      resumable = j;
    }
  }

  /** A request fails whole: its chunks after this slice leave the count too. */
  private void fail(Slice<I, O> s, Throwable t) {
    synchronized (lock) {
      queuedItems -= s.job().remaining().size() - s.items().size();
    }
    s.job().result.completeExceptionally(t);
  }

  private List<O> call(List<I> items) throws Exception {
    List<O> out = function.apply(items);
    if (out == null || out.size() != items.size()) {
      throw new IllegalStateException(
          name
              + ": the batch function returned "
              + (out == null ? "null" : out.size() + " results")
              + " for "
              + items.size()
              + " inputs");
    }
    return out;
  }
}
