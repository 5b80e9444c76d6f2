package dev.whet.server;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs the requests of concurrent callers through one batch function, several at a time: a single
 * worker thread takes the oldest request, gathers whatever else is queued (waiting at most {@code
 * maxWait} after that request arrived) up to {@code maxBatch} items, makes one call, and hands each
 * caller back its own slice of the results, in order.
 *
 * <p>A request of at most {@code maxBatch} items stays together. A larger one runs in chunks of
 * {@code maxBatch}, alternating with batches of the requests that arrived meanwhile, so a
 * 2,048-text request delays a one-text request by one chunk, not by all of its work, and is itself
 * never held back by more than one batch; a large request whose caller gave up stops at its next
 * chunk.
 *
 * <p>Projects share the model fairly: waiting requests are kept per project and taken in turns (the
 * oldest of the next project after the one served last), so a project that sends a hundred requests
 * delays another's single request by one batch, not a hundred; and one project may fill at most
 * three quarters of the queue, so another always finds room.
 *
 * <p>When a combined call fails, each request in it is retried alone, so one bad request fails only
 * itself. The queue is bounded in items; a request that does not fit is refused at once ({@link
 * Overloaded}) rather than left to wait. The worker is the only thread that calls the batch
 * function, so a model that is not thread-safe needs no lock.
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

  /**
   * A request: its project, its items, its results so far (chunks of a large one), its caller's
   * future.
   */
  private static final class Job<I, O> {
    final String project;
    final List<I> items;
    final CompletableFuture<List<O>> result;
    final long queuedAt;
    final List<O> done = new ArrayList<>();

    Job(String project, List<I> items, CompletableFuture<List<O>> result, long queuedAt) {
      this.project = project;
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
  private final int maxQueuedPerProject;
  private final Thread worker;
  private final Object lock = new Object();
  // Guarded by lock: waiting requests by project, in turn order (the project served last moves to
  // the end); items waiting, in all and per project; whether new requests are refused.
  private final LinkedHashMap<String, ArrayDeque<Job<I, O>>> waiting = new LinkedHashMap<>();
  private int queuedItems;
  private final Map<String, Integer> queuedByProject = new HashMap<>();
  private String lastServed;
  private boolean closed;
  // What the queue gives once it is closed and empty: the worker stops there.
  private final Job<I, O> end = new Job<>("", List.of(), null, 0);
  // Only the worker touches these: a request taken from the queue that did not fit the last
  // batch, a large request between two of its chunks, and whether other requests just had their
  // batch (so the large request's next chunk goes first).
  private Job<I, O> carried;
  private Job<I, O> resumable;
  private boolean othersHadTheirTurn;

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
    this.maxQueuedPerProject = Math.max(1, maxQueuedItems * 3 / 4);
    this.function = function;
    this.onClose = onClose;
    this.worker = new Thread(this::work, "batcher-" + name);
    worker.setDaemon(true);
    worker.start();
  }

  /**
   * Queues {@code items} as one request of {@code project}; the future completes with their results
   * in order, or with the batch function's exception.
   *
   * @throws Overloaded when the queue, or the project's share of it, has no room for them
   * @throws Closed when the batcher is closed
   */
  public CompletableFuture<List<O>> submit(String project, List<I> items) {
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
      int ours = queuedByProject.getOrDefault(project, 0);
      if (queuedItems > 0 && queuedItems + items.size() > maxQueuedItems) {
        throw new Overloaded(
            "too many requests are waiting for "
                + name
                + " ("
                + queuedItems
                + " inputs queued); retry shortly");
      }
      if (ours > 0 && ours + items.size() > maxQueuedPerProject) {
        throw new Overloaded(
            "your project has "
                + ours
                + " inputs waiting for "
                + name
                + ", its share of the queue; retry shortly");
      }
      count(project, items.size());
      waiting
          .computeIfAbsent(project, p -> new ArrayDeque<>())
          .add(new Job<>(project, List.copyOf(items), result, System.nanoTime()));
      lock.notifyAll();
    }
    return result;
  }

  /** Adds {@code n} (or removes, when negative) waiting items of {@code project}. Under lock. */
  private void count(String project, int n) {
    queuedItems += n;
    queuedByProject.merge(project, n, Integer::sum);
    if (queuedByProject.get(project) == 0) {
      queuedByProject.remove(project);
    }
  }

  /**
   * Submits and waits, at most {@code timeout}.
   *
   * @throws Overloaded when the queue is full or the result did not come in time
   */
  public List<O> process(String project, List<I> items, Duration timeout) throws Exception {
    CompletableFuture<List<O>> f = submit(project, items);
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
      closed = true; // the queue gives the end marker once it is empty
      lock.notifyAll();
    }
  }

  /** Waits for the worker to finish after {@link #close()} (for tests and shutdown). */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    worker.join(timeout.toMillis());
    return !worker.isAlive();
  }

  /** Takes the next request, waiting as long as it takes (until the end marker, once closed). */
  private Job<I, O> take() {
    return poll(Long.MAX_VALUE);
  }

  /**
   * The oldest request of the project whose turn it is, waiting at most {@code nanos} for one; null
   * when none came, {@link #end} when the batcher is closed and nothing waits.
   */
  private Job<I, O> poll(long nanos) {
    long deadline = System.nanoTime() + nanos;
    synchronized (lock) {
      while (waiting.isEmpty()) {
        if (closed) {
          return end;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return null;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(lock, Math.min(left, TimeUnit.SECONDS.toNanos(1)));
        } catch (InterruptedException e) {
          // nobody should interrupt the worker; keep serving
        }
      }
      // The first project in turn order, unless it was served last and another waits (it was
      // alone when the other came).
      var projects = waiting.keySet().iterator();
      String project = projects.next();
      if (project.equals(lastServed) && projects.hasNext()) {
        project = projects.next();
      }
      lastServed = project;
      ArrayDeque<Job<I, O>> theirs = waiting.remove(project);
      Job<I, O> job = theirs.poll();
      if (!theirs.isEmpty()) {
        waiting.put(project, theirs); // to the end of the turn order
      }
      return job;
    }
  }

  private Job<I, O> poll() {
    return poll(0);
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
   * The next request to start a batch with. Between a large request's chunks, turns alternate: one
   * batch of the requests that wait (a carried one first), then the next chunk. Otherwise a carried
   * request, else whatever comes.
   */
  private Job<I, O> next() {
    if (resumable != null) {
      if (!othersHadTheirTurn) {
        Job<I, O> other = carried != null && carried != end ? carried : poll();
        if (other != null && other != end) {
          if (other == carried) {
            carried = null;
          }
          othersHadTheirTurn = true;
          return other;
        }
        if (other == end) {
          carried = end; // finish the large request first, then stop
        }
      }
      othersHadTheirTurn = false;
      Job<I, O> r = resumable;
      resumable = null;
      return r;
    }
    if (carried != null) {
      Job<I, O> c = carried;
      carried = null;
      return c;
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
      Job<I, O> next = poll(Math.max(0, deadline - System.nanoTime()));
      if (next == null) {
        break;
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
        count(s.job().project, -(gaveUp ? s.job().remaining().size() : s.items().size()));
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
      count(s.job().project, -(s.job().remaining().size() - s.items().size()));
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
