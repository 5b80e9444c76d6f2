package dev.whet.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.WhetException;
import dev.whet.engine.Collective;
import dev.whet.train.JobConfig;
import dev.whet.train.JobEstimate;
import dev.whet.train.RunDir;
import dev.whet.train.TrainResult;
import dev.whet.train.Training;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * Runs fine-tuning jobs inside the server, one at a time, oldest first, on its own thread (requests
 * and inference keep being served meanwhile). A job is claimed with a lease the worker renews while
 * it trains; a job whose server died (its lease ran out, or at once on SQLite, where one process
 * owns the database) is claimed again and resumed from its last checkpoint with {@link
 * Training#resume}, so it finishes with the weights it would have had.
 */
final class Worker implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("whet.jobs");

  private final Store store;
  private final Blobs blobs;
  private final Path home;
  private final long leaseSeconds;
  private final int trainThreads;
  private JobEstimate.Machine machine;
  private final String owner = ProcessHandle.current().pid() + "-" + Store.newId("");
  private final Object signal = new Object();
  private final Thread thread;
  private final ScheduledExecutorService leases =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("whet-lease").daemon().factory());
  private volatile boolean stopping;

  /** The group of another server's job this one trains in, while it does: closed on shutdown. */
  private volatile Collective memberOf;

  Worker(Store store, Blobs blobs, Path home, long leaseSeconds, int trainThreads) {
    this.store = store;
    this.blobs = blobs;
    this.home = home;
    this.leaseSeconds = leaseSeconds;
    this.trainThreads = trainThreads;
    this.thread = new Thread(this::loop, "whet-worker");
    thread.setDaemon(true);
  }

  int trainThreads() {
    return trainThreads;
  }

  /**
   * What this machine multiplies per second at the training thread count, measured at the first
   * job's creation (under a second) and kept: job estimates are priced with it.
   */
  synchronized JobEstimate.Machine machine() {
    if (machine == null) {
      machine = JobEstimate.Machine.measure(trainThreads);
    }
    return machine;
  }

  void start() {
    thread.start();
  }

  /** A job was queued: look now rather than at the next poll. */
  void wake() {
    synchronized (signal) {
      signal.notifyAll();
    }
  }

  private void loop() {
    while (!stopping) {
      Store.Job job;
      try {
        job = store.claim(owner, leaseSeconds);
      } catch (RuntimeException e) {
        LOG.warn("cannot claim jobs: {}", e.getMessage());
        job = null;
      }
      if (job == null && joinAGroup()) {
        continue;
      }
      if (job == null) {
        synchronized (signal) {
          try {
            signal.wait(1000);
          } catch (InterruptedException e) {
            return;
          }
        }
        continue;
      }
      run(job);
    }
  }

  private void run(Store.Job job) {
    ScheduledFuture<?> renew =
        leases.scheduleAtFixedRate(
            () -> {
              try {
                if (!store.renewLease(job.id(), owner, leaseSeconds)) {
                  // Cancelled, or taken over by another server: the training listener stops
                  // at its next check, and fenced writes refuse anything before that.
                  LOG.info("job {}: the lease could not be renewed", job.id());
                }
              } catch (RuntimeException e) {
                LOG.warn("cannot renew the lease of {}: {}", job.id(), e.getMessage());
              }
            },
            leaseSeconds / 3,
            Math.max(1, leaseSeconds / 3),
            TimeUnit.SECONDS);
    UnaryOperator<String> forUsers = forUsers(job);
    JobEvents events = new JobEvents(store, job.id(), owner, () -> stopping, forUsers);
    try {
      LOG.info("job {} (project {}) training", job.id(), job.project());
      TrainResult result = train(job, events);
      succeed(job, result);
      LOG.info("job {} succeeded", job.id());
    } catch (JobEvents.Cancelled e) {
      dropOptimizerState(job);
      lastWord(
          events,
          job,
          "info",
          "Training stopped at step "
              + events.step()
              + " (job cancelled); the saved checkpoints' weights are kept in the run directory.");
    } catch (JobEvents.LeaseLost e) {
      LOG.warn(
          "job {}: another server holds its lease now (this one was paused or cut off past it);"
              + " stopped without writing",
          job.id());
    } catch (Collective.GroupLost e) {
      // Said while this server still holds the job (events are fenced by the lease), then let go.
      lastWord(
          events,
          job,
          "warn",
          "A server of the job's group stopped ("
              + forUsers.apply(e.getMessage())
              + "): the job is queued again and resumes from its last checkpoint when a group"
              + " forms.");
      store.requeue(job.id(), owner);
    } catch (JobEvents.Stopped e) {
      store.releaseLease(job.id(), owner);
      lastWord(
          events,
          job,
          "warn",
          "Training paused at step "
              + events.step()
              + ": the server is shutting down; the job resumes when a server starts.");
    } catch (WhetException e) {
      fail(job, "training_failed", forUsers.apply(e.getMessage()));
    } catch (ApiError e) {
      fail(job, "invalid_request", forUsers.apply(e.getMessage()));
    } catch (Throwable e) {
      LOG.error("job {} failed with an internal error", job.id(), e);
      fail(job, "internal_error", forUsers.apply("internal error: " + e));
    } finally {
      renew.cancel(false);
    }
  }

  private TrainResult train(Store.Job job, JobEvents events) {
    RunDir run = new RunDir(Path.of(job.runDir()));
    if (Files.isRegularFile(run.jobYaml())) {
      // The job ran before and its server stopped: continue where the run's files say.
      List<Path> saved = run.checkpoints();
      long from = saved.isEmpty() ? 0 : RunDir.stepOf(saved.get(saved.size() - 1));
      long reached =
          RunMetrics.read(run.path()).keySet().stream().mapToLong(Long::longValue).max().orElse(0);
      events.message(
          "warn",
          "Job resumed after interruption at step "
              + reached
              + " (the server stopped); continuing from "
              + (from > 0 ? "the checkpoint at step " + from : "the start (no checkpoint yet)"));
      if (run.finished()) {
        return finishedBefore(run, saved);
      }
      store.deleteMetricsAfter(job.id(), from); // trained and reported again from the checkpoint
      return inGroup(job, true, events);
    }
    if (job.status().equals("running")) {
      events.message("warn", "Job restarted after interruption before training began");
    }
    events.message("info", "Fine-tuning job started");
    return inGroup(job, false, events);
  }

  /**
   * Trains the job here, or as rank 0 of a group of servers when it asks for {@code whet.workers}:
   * the group's meeting place is published with the job for other servers to find ({@link
   * #joinAGroup}), and taken down when training ends.
   */
  private TrainResult inGroup(Store.Job job, boolean resume, JobEvents events) {
    JobRequest req = JobRequest.fromJson(job.request());
    RunDir run = new RunDir(Path.of(job.runDir()));
    int world = req.workerCount();
    if (world == 1) {
      return resume
          ? Training.resume(run.path().toString(), List.of(events))
          : Training.start(config(job, req, run), List.of(events));
    }
    String host = groupHost();
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    } catch (IOException e) {
      throw new WhetException("no free port for the job's group (" + e.getMessage() + ")", e);
    }
    Map<String, Object> meeting = new LinkedHashMap<>();
    meeting.put("epoch", Store.newId(""));
    meeting.put("host", host);
    meeting.put("port", port);
    meeting.put("world", world);
    meeting.put("resume", resume);
    store.publishGroup(job.id(), owner, Http.text(meeting));
    events.message(
        "info",
        "Waiting for " + (world - 1) + " more server(s) to join the job's group at " + host);
    try (Collective group = Collective.join(host, port, 0, world, groupTimeout())) {
      events.message("info", "Training on a group of " + world + " servers");
      return resume
          ? Training.resume(run.path().toString(), group, List.of(events))
          : Training.start(config(job, req, run), group, List.of(events));
    } finally {
      store.publishGroup(job.id(), owner, null);
    }
  }

  /**
   * With no job of its own to run, joins another server's forming group, if any, and trains its
   * part to the end (its rank writes nothing: the job's own server does). True when it did.
   */
  private boolean joinAGroup() {
    Store.Member m;
    try {
      m = store.joinGroup(owner);
    } catch (RuntimeException e) {
      return false; // another server took that rank first, or the database is away: look again
    }
    if (m == null) {
      return false;
    }
    Store.Job job = m.job();
    JsonNode g = m.rendezvous();
    int world = g.path("world").asInt();
    LOG.info("job {}: joining its group as rank {} of {}", job.id(), m.rank(), world);
    RunDir run = new RunDir(Path.of(job.runDir()));
    try (Collective group =
        Collective.join(
            g.path("host").asText(), g.path("port").asInt(), m.rank(), world, groupTimeout())) {
      memberOf = group;
      if (g.path("resume").asBoolean()) {
        Training.resume(run.path().toString(), group, List.of());
      } else {
        Training.start(config(job, JobRequest.fromJson(job.request()), run), group, List.of());
      }
      LOG.info("job {}: rank {} finished its part", job.id(), m.rank());
    } catch (RuntimeException e) {
      LOG.warn("job {}: rank {} stopped: {}", job.id(), m.rank(), e.getMessage());
    } finally {
      memberOf = null;
    }
    return true;
  }

  /**
   * The address other servers reach this one at for a job's group: {@code whet.group.host} or
   * {@code WHET_GROUP_HOST}, else this machine's address.
   */
  private static String groupHost() {
    String h = System.getProperty("whet.group.host", System.getenv("WHET_GROUP_HOST"));
    if (h != null && !h.isBlank()) {
      return h;
    }
    try {
      return java.net.InetAddress.getLocalHost().getHostAddress();
    } catch (java.net.UnknownHostException e) {
      return "127.0.0.1";
    }
  }

  /**
   * How long a group may take to form, and a rank to answer within it: {@code whet.group.timeout}
   * seconds (120 by default; a server that stops without closing its connections is noticed after
   * it).
   */
  static java.time.Duration groupTimeout() {
    return java.time.Duration.ofSeconds(Long.getLong("whet.group.timeout", 120));
  }

  /** The job as every rank trains it: the same request, files and run directory. */
  private JobConfig config(Store.Job job, JobRequest req, RunDir run) {
    return req.toConfig(
        blobPath(job.project(), req.trainingFile()),
        req.validationFile() == null ? null : blobPath(job.project(), req.validationFile()),
        taskOf(job.project(), req.trainingFile()),
        run.path(),
        trainThreads,
        ModelResolver.isFineTuned(req.model())
            ? new ModelResolver(store).resolve(new Caller(job.project(), null), req.model())
            : null);
  }

  /** A run that finished training before its server stopped: its model is already saved. */
  private static TrainResult finishedBefore(RunDir run, List<Path> saved) {
    long tokens = 0;
    if (!saved.isEmpty()) {
      try {
        Path state = saved.get(saved.size() - 1).resolve("trainer_state.json");
        tokens = Http.tree(Files.readString(state)).path("real_tokens").asLong();
      } catch (IOException e) {
        // trained_tokens stays 0; the model itself is complete
      }
    }
    return new TrainResult(
        run.path(),
        run.model(),
        null,
        Double.NaN,
        -1,
        0,
        0,
        tokens,
        false,
        Map.of(),
        Map.of(),
        null);
  }

  /** The job's closing message, unless another server holds its lease by now. */
  private static void lastWord(JobEvents events, Store.Job job, String level, String message) {
    try {
      events.message(level, message);
    } catch (JobEvents.LeaseLost lost) {
      LOG.warn("job {}: another server holds its lease now; not recording: {}", job.id(), message);
    }
  }

  /**
   * Rewrites a message for the job's owner, who must never see the server's paths: its training and
   * validation files' paths become their file ids, its run directory the job id, anything else
   * under WHET_HOME a path relative to it.
   */
  UnaryOperator<String> forUsers(Store.Job job) {
    Map<String, String> replace = new LinkedHashMap<>();
    JobRequest req = JobRequest.fromJson(job.request());
    for (String id : java.util.Arrays.asList(req.trainingFile(), req.validationFile())) {
      Store.FileRow f = id == null ? null : store.file(job.project(), id);
      if (f != null) {
        replace.put(blobs.path(f.sha256(), f.format()).toString(), id);
      }
    }
    replace.put(job.runDir(), job.id());
    replace.put(home.toAbsolutePath() + "/", "");
    replace.put(home.toAbsolutePath().toString(), "WHET_HOME");
    return message -> {
      if (message == null) {
        return null;
      }
      for (Map.Entry<String, String> r : replace.entrySet()) {
        message = message.replace(r.getKey(), r.getValue());
      }
      return message;
    };
  }

  private Path blobPath(String project, String fileId) {
    Store.FileRow f = store.file(project, fileId);
    if (f == null) {
      throw new WhetException("file " + fileId + " was deleted before the job started");
    }
    return blobs.path(f.sha256(), f.format());
  }

  private String taskOf(String project, String fileId) {
    Store.FileRow f = store.file(project, fileId);
    return f == null ? null : f.task();
  }

  private void succeed(Store.Job job, TrainResult result) throws IOException {
    String model = ModelResolver.fineTunedId(job);
    String csv = RunMetrics.csv(RunMetrics.read(result.runDir()));
    byte[] bytes = csv.getBytes(StandardCharsets.UTF_8);
    String sha = blobs.write(bytes, "csv");
    String fileId = Store.newId("file-");
    store.insertFile(
        new Store.FileRow(
            fileId,
            job.project(),
            "step_metrics.csv",
            FileRoutes.RESULTS,
            bytes.length,
            sha,
            "csv",
            null,
            null,
            Store.now(),
            null));
    if (store.finish(job.id(), owner, "succeeded", model, result.realTokens(), null, fileId)) {
      store.addEvent(job.id(), "info", "message", "New fine-tuned model created: " + model, null);
      store.addEvent(job.id(), "info", "message", "The job has successfully completed", null);
      dropOptimizerState(job); // after the closing events: clients see the end at once
    }
  }

  private void fail(Store.Job job, String code, String message) {
    LOG.info("job {} failed ({}): {}", job.id(), code, message);
    Map<String, Object> error = new LinkedHashMap<>();
    error.put("code", code);
    error.put("message", message);
    error.put("param", null);
    if (store.finish(job.id(), owner, "failed", null, null, Http.text(error), null)) {
      dropOptimizerState(job);
      store.addEvent(job.id(), "error", "message", "The job failed: " + message, null);
    }
  }

  /**
   * Deletes the optimizer state of a job that has ended (succeeded, failed or cancelled: none of
   * them resumes), two thirds of every checkpoint. Only after the fenced {@code finish}: a server
   * that lost the job's lease never touches the run another one continues.
   */
  private void dropOptimizerState(Store.Job job) {
    try {
      long freed = new RunDir(Path.of(job.runDir())).dropOptimizerState();
      LOG.info("job {}: {} MB of optimizer state deleted", job.id(), freed / (1024 * 1024));
    } catch (RuntimeException e) {
      LOG.warn("job {}: could not delete its optimizer state: {}", job.id(), e.toString());
    }
  }

  /** The job's error object, stored as JSON, or null. */
  static JsonNode error(Store.Job job) {
    return Http.tree(job.error());
  }

  /** Stops taking jobs; a running training stops at its next step and resumes on restart. */
  @Override
  public void close() {
    stopping = true;
    wake();
    Collective joined = memberOf;
    if (joined != null) {
      joined.leave(); // its training stops at its next exchange; the job's server requeues it
    }
    if (thread.isAlive()) {
      try {
        thread.join(60_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    leases.shutdownNow();
  }
}
