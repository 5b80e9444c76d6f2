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
 * <p>A request is a list of items that stays together (never split across calls). When a combined
 * call fails, each request in it is retried alone, so one bad request fails only itself. The queue
 * is bounded in items; a request that does not fit is refused at once ({@link Overloaded}) rather
 * than left to wait. The worker is the only thread that calls the batch function, so a model that
 * is not thread-safe needs no lock.
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

  private record Job<I, O>(List<I> items, CompletableFuture<List<O>> result, long queuedAt) {}

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
  // Only the worker touches this: a request taken from the queue that did not fit the last batch.
  private Job<I, O> carried;

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
        Job<I, O> first = carried != null ? carried : take();
        carried = null;
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

  /** The first job plus whatever joins within the wait, up to maxBatch items. */
  private List<Job<I, O>> gather(Job<I, O> first) {
    List<Job<I, O>> batch = new ArrayList<>();
    batch.add(first);
    int items = first.items().size();
    long deadline = first.queuedAt() + maxWaitNanos;
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
      if (next == end || items + next.items().size() > maxBatch) {
        carried = next;
        break;
      }
      batch.add(next);
      items += next.items().size();
    }
    return batch;
  }

  private void run(List<Job<I, O>> batch) {
    synchronized (lock) {
      for (Job<I, O> j : batch) {
        queuedItems -= j.items().size();
      }
    }
    // A carried job is out of the queue but still waiting, so it stays counted.
    // Callers that gave up (timed out) are dropped before the work is done.
    List<Job<I, O>> live = batch.stream().filter(j -> !j.result().isDone()).toList();
    if (live.isEmpty()) {
      return;
    }
    List<I> items = new ArrayList<>();
    for (Job<I, O> j : live) {
      items.addAll(j.items());
    }
    List<O> out;
    try {
      out = call(items);
    } catch (Throwable t) {
      if (live.size() == 1) {
        live.get(0).result().completeExceptionally(t);
        return;
      }
      // Someone's input broke the combined call: retry each alone so only that one fails.
      for (Job<I, O> j : live) {
        try {
          j.result().complete(call(j.items()));
        } catch (Throwable single) {
          j.result().completeExceptionally(single);
        }
      }
      return;
    }
    int at = 0;
    for (Job<I, O> j : live) {
      int n = j.items().size();
      j.result().complete(Collections.unmodifiableList(new ArrayList<>(out.subList(at, at + n))));
      at += n;
    }
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
