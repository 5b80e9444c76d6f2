package dev.whet.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.data.Task;
import dev.whet.model.DecoderFiles;
import dev.whet.model.ModelRef;
import dev.whet.train.JobConfig;
import dev.whet.train.JobEstimate;
import dev.whet.train.RunDir;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code /v1/fine_tuning/jobs}: create, list, retrieve, cancel, events (also as a server-sent-event
 * stream) and checkpoints; and {@code /v1/whet/jobs/{id}/report}, the run's evaluation report.
 */
final class JobRoutes implements Routes {
  private static final List<String> TASKS = dev.whet.data.Task.jobTasks();
  private static final long STREAM_POLL_MS = 250;

  private final Store store;
  private final Blobs blobs;
  private final ModelResolver models;
  private final Worker worker;
  private final Path home;

  private final JobLimits limits;
  private final DiskQuota quota;

  JobRoutes(
      Store store,
      Blobs blobs,
      ModelResolver models,
      Worker worker,
      Path home,
      JobLimits limits,
      DiskQuota quota) {
    this.limits = limits;
    this.quota = quota;
    this.store = store;
    this.blobs = blobs;
    this.models = models;
    this.worker = worker;
    this.home = home;
  }

  @Override
  public void register(Javalin app) {
    app.post("/v1/fine_tuning/jobs", this::create);
    app.post("/v1/whet/jobs/plan", this::plan);
    app.get("/v1/fine_tuning/jobs", this::list);
    app.get("/v1/fine_tuning/jobs/{id}", this::retrieve);
    app.post("/v1/fine_tuning/jobs/{id}/cancel", this::cancel);
    app.get("/v1/fine_tuning/jobs/{id}/events", this::events);
    app.get("/v1/fine_tuning/jobs/{id}/checkpoints", this::checkpoints);
    app.get("/v1/whet/jobs/{id}/report", this::report);
  }

  /**
   * {@code POST /v1/whet/jobs/plan}: the job a creation request would start, without starting it —
   * every {@code auto} resolved as training will resolve it, and the estimate of time, memory and
   * disk. The same checks as creation, so a request the plan accepts is one creation accepts.
   */
  void plan(Context ctx) {
    Caller caller = Caller.of(ctx);
    Prepared p = prepare(caller, JobRequest.of(Requests.object(ctx)), "ftjob-plan");
    int examples = p.train().examples() == null ? 0 : p.train().examples();
    boolean heldOut = p.val() == null && p.config().holdout > 0 && p.config().evaluate;
    int trainExamples = heldOut ? (int) Math.round(examples * (1 - p.config().holdout)) : examples;
    JobConfig r = p.config().resolve(trainExamples, c -> p.estimate().precision());
    Map<String, Object> resolved = new LinkedHashMap<>();
    resolved.put("task", r.task);
    resolved.put("method", r.method);
    resolved.put("metric", r.metric);
    resolved.put("n_epochs", number(r.epochs));
    resolved.put("batch_size", r.batchSize);
    resolved.put("learning_rate", r.lrValue());
    resolved.put("learning_rate_multiplier", multiplier(r));
    resolved.put("max_length", r.maxLength);
    resolved.put("precision", r.precision);
    resolved.put("training_examples", trainExamples);
    resolved.put("held_out_examples", heldOut ? examples - trainExamples : 0);
    JobEstimate e = p.estimate();
    Map<String, Object> estimate = new LinkedHashMap<>();
    estimate.put("steps", e.steps());
    estimate.put("tokens", e.tokens());
    estimate.put("seconds", Math.round(e.seconds()));
    estimate.put("memory_bytes", e.memory().total());
    estimate.put("disk_bytes", e.disk());
    estimate.put("description", e.describe());
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("object", "whet.job_plan");
    out.put("resolved", resolved);
    out.put("estimate", estimate);
    ctx.json(out);
  }

  private Prepared prepare(Caller caller, JobRequest req, String id) {
    // 404 unless a base model this server has, or one of the caller's fine-tuned models.
    Path modelDir = models.resolve(caller, req.model());
    boolean continues = ModelResolver.isFineTuned(req.model());
    if (continues && LoadedModels.kindOf(modelDir) != ModelRef.Kind.DECODER) {
      throw ApiError.invalid(
          "Continuing from a fine-tuned model works for decoders (SFT, then more SFT or DPO);"
              + " fine-tune an encoder from its base model instead.",
          "model");
    }
    // A fine-tuned decoder is an adapter on its base: the base's files say what the model is.
    Path baseDir =
        DecoderFiles.isAdapter(modelDir) ? DecoderFiles.readAdapter(modelDir).base() : modelDir;
    Store.FileRow train = trainingFile(caller, req.trainingFile(), "training_file");
    Store.FileRow val =
        req.validationFile() == null
            ? null
            : trainingFile(caller, req.validationFile(), "validation_file");
    Path runDir = home.resolve("runs").resolve(id);
    JobConfig config =
        req.toConfig(
            blobs.path(train.sha256(), train.format()),
            val == null ? null : blobs.path(val.sha256(), val.format()),
            train.task(),
            runDir,
            worker.trainThreads(),
            continues ? modelDir : null);
    limits.check(config, worker.trainThreads());
    if (!TASKS.contains(config.task)) {
      throw ApiError.invalid(
          req.trainingFile()
              + " holds '"
              + train.task()
              + "' examples; the service fine-tunes classifiers (text/label, text/labels,"
              + " text/text_pair/label records), taggers (tokens/tags), sentence embeddings"
              + " (scored or plain pairs) and decoders (chat messages, prompt/completion or"
              + " instruction records).",
          "training_file",
          "invalid_file");
    }
    if (!config.task.equals(JobRequest.jobTask(train.task()))) {
      throw ApiError.invalid(
          "The job's task is '"
              + config.task
              + "' but "
              + req.trainingFile()
              + " holds '"
              + train.task()
              + "' examples.",
          "whet.task");
    }
    if (val != null && !JobRequest.jobTask(val.task()).equals(JobRequest.jobTask(train.task()))) {
      throw ApiError.invalid(
          req.validationFile()
              + " holds '"
              + val.task()
              + "' examples but the training file holds '"
              + train.task()
              + "' examples.",
          "validation_file",
          "invalid_file");
    }
    checkBase(req.model(), baseDir, config);
    checkWorkers(req, config);
    JobEstimate estimate =
        JobEstimate.of(
            config,
            baseDir,
            train.examples() == null ? 0 : train.examples(),
            train.bytes(),
            worker.machine());
    limits.check(estimate);
    quota.check(caller.project(), estimate.disk(), "this job's run (model and checkpoints)", null);
    return new Prepared(req, train, val, runDir, config, estimate);
  }

  /** A request checked and costed: what creating it would run, before anything is stored. */
  private record Prepared(
      JobRequest req,
      Store.FileRow train,
      Store.FileRow val,
      Path runDir,
      JobConfig config,
      JobEstimate estimate) {}

  void create(Context ctx) {
    Caller caller = Caller.of(ctx);
    Prepared p = prepare(caller, JobRequest.of(Requests.object(ctx)), Store.newId("ftjob-"));
    JobRequest req = p.req();
    Store.FileRow train = p.train();
    Store.FileRow val = p.val();
    JobEstimate estimate = p.estimate();
    String id = p.runDir().getFileName().toString();
    Path runDir = p.runDir();
    store.insertJob(
        Store.Job.created(
            id,
            caller.project(),
            "validating_files",
            Http.text(req.toJson()),
            req.model(),
            runDir.toString()));
    store.addEvent(id, "info", "message", "Created fine-tuning job: " + id, null);
    store.addEvent(
        id,
        "info",
        "message",
        "Validating training file: "
            + train.id()
            + (val == null ? "" : " and validation file: " + val.id()),
        null);
    // The files were checked line by line at upload; here only their task against the job's.
    store.transition(id, List.of("validating_files"), "queued");
    store.addEvent(id, "info", "message", "Files validated, moving job to queued state", null);
    store.addEvent(
        id, "info", "message", "Estimated on this server: " + estimate.describe() + ".", null);
    worker.wake();
    ctx.json(object(store.job(caller.project(), id)));
  }

  /** A decoder base for sft, an encoder base for the classifier tasks; else 400 saying which. */
  /**
   * A job for several servers ({@code whet.workers}) needs servers that share a database to find
   * one another through, and a task that data parallelism keeps the same.
   */
  private void checkWorkers(JobRequest req, JobConfig config) {
    int n = req.workerCount();
    if (n == 1) {
      return;
    }
    if (store.dialect() == Db.Dialect.SQLITE) {
      throw ApiError.invalid(
          "whet.workers: "
              + n
              + " needs several servers sharing a PostgreSQL database (whet serve --db"
              + " postgresql://…) to form the group; with SQLite one server trains each job.",
          "whet.workers");
    }
    String why = config.whyNotDataParallel();
    if (why != null) {
      throw ApiError.invalid(
          "whet.workers: " + n + ": " + why + "; train this job on one server.", "whet.workers");
    }
  }

  private static void checkBase(String model, Path baseDir, JobConfig config) {
    boolean decoder;
    try {
      decoder = LoadedModels.kindOf(baseDir) == ModelRef.Kind.DECODER;
    } catch (dev.whet.WhetException e) {
      throw ApiError.invalid("Model '" + model + "' cannot be read: " + e.getMessage(), "model");
    }
    if (config.trainsDecoder() && !decoder) {
      throw ApiError.invalid(
          "Model '"
              + model
              + "' is not a decoder (Llama, Mistral or Qwen2 architecture); supervised"
              + " fine-tuning on chat, prompt/completion or instruction records and DPO on"
              + " preference pairs need one.",
          "model");
    }
    if (!config.trainsDecoder() && decoder) {
      throw ApiError.invalid(
          "Model '"
              + model
              + "' is a decoder; it is fine-tuned on chat, prompt/completion or instruction"
              + " records (task sft) or preference pairs (dpo), not on '"
              + config.task
              + "' examples. Use an encoder base such as minilm-l6 for classifiers.",
          "model");
    }
  }

  private Store.FileRow trainingFile(Caller caller, String id, String param) {
    Store.FileRow f = store.file(caller.project(), id);
    if (f == null) {
      throw new ApiError(
          404, "invalid_request_error", "No such file: '" + id + "'", param, "not_found");
    }
    if (!f.purpose().equals(FileRoutes.FINE_TUNE)) {
      throw ApiError.invalid(
          id + " has purpose '" + f.purpose() + "'; upload training data with purpose fine-tune.",
          param);
    }
    return f;
  }

  private Store.Job find(Context ctx) {
    Store.Job j = store.job(Caller.of(ctx).project(), ctx.pathParam("id"));
    if (j == null) {
      throw ApiError.notFound("fine-tuning job", ctx.pathParam("id"));
    }
    return j;
  }

  void list(Context ctx) {
    Store.Page<Store.Job> page =
        store.jobs(Caller.of(ctx).project(), ctx.queryParam("after"), Http.limit(ctx, 20, 100));
    ctx.json(Http.list(page.data().stream().map(this::object).toList(), page.hasMore()));
  }

  void retrieve(Context ctx) {
    ctx.json(object(find(ctx)));
  }

  void cancel(Context ctx) {
    Store.Job j = find(ctx);
    if (j.terminal()) {
      throw ApiError.invalid(
          "Job "
              + j.id()
              + " has already "
              + j.status()
              + "; only unfinished jobs can be cancelled.",
          "id");
    }
    if (store.transition(j.id(), List.of("validating_files", "queued", "running"), "cancelled")) {
      // A running training sees the status at its next step and stops there.
      store.addEvent(j.id(), "info", "message", "Job cancelled", null);
    }
    ctx.json(object(store.job(j.project(), j.id())));
  }

  void events(Context ctx) throws IOException {
    Store.Job job = find(ctx);
    if ("true".equals(ctx.queryParam("stream"))) {
      try {
        stream(ctx, job);
      } catch (org.eclipse.jetty.io.EofException gone) {
        // the client closed the stream; nothing to answer
      }
      return;
    }
    boolean asc = "asc".equals(ctx.queryParam("order"));
    String after = ctx.queryParam("after");
    long from = asc ? 0 : Long.MAX_VALUE;
    if (after != null) {
      from = eventSeq(after);
    }
    Store.Page<Store.Event> page = store.events(job.id(), from, Http.limit(ctx, 20, 10_000), asc);
    ctx.json(Http.list(page.data().stream().map(JobRoutes::event).toList(), page.hasMore()));
  }

  private static long eventSeq(String id) {
    try {
      return Long.parseLong(id.substring(id.indexOf('-') + 1));
    } catch (NumberFormatException e) {
      throw ApiError.invalid("'after' must be an event id (ftevent-N).", "after");
    }
  }

  /**
   * Every event oldest first, then new ones as they come, each as {@code data: <json>}; {@code
   * data: [DONE]} once the job is finished and all its events are sent.
   */
  private void stream(Context ctx, Store.Job job) throws IOException {
    Sse out = Sse.open(ctx);
    long seq = 0;
    long lastWrite = System.currentTimeMillis();
    while (true) {
      boolean terminal = store.job(job.id()).terminal(); // read before the events: none missed
      Store.Page<Store.Event> page = store.events(job.id(), seq, 500, true);
      for (Store.Event e : page.data()) {
        out.send(Http.text(event(e)));
        seq = e.seq();
        lastWrite = System.currentTimeMillis();
      }
      if (page.hasMore()) {
        continue;
      }
      if (terminal) {
        out.done();
        return;
      }
      if (System.currentTimeMillis() - lastWrite > 10_000) {
        out.keepAlive();
        lastWrite = System.currentTimeMillis();
      }
      try {
        Thread.sleep(STREAM_POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  void checkpoints(Context ctx) {
    Store.Job job = find(ctx);
    int limit = Http.limit(ctx, 10, 100);
    Path runDir = Path.of(job.runDir());
    List<Map<String, Object>> data = new ArrayList<>();
    if (Files.isDirectory(runDir)) {
      TreeMap<Long, Map<String, Object>> metrics = RunMetrics.read(runDir);
      List<Path> saved = new ArrayList<>(new RunDir(runDir).checkpoints());
      java.util.Collections.reverse(saved); // newest first, as OpenAI lists them
      String after = ctx.queryParam("after");
      boolean skipping = after != null;
      for (Path dir : saved) {
        long step = RunDir.stepOf(dir);
        String id = checkpointId(job, step);
        if (skipping) {
          skipping = !id.equals(after);
          continue;
        }
        data.add(checkpoint(job, dir, step, metrics.getOrDefault(step, Map.of())));
      }
    }
    boolean more = data.size() > limit;
    ctx.json(Http.list(more ? data.subList(0, limit) : data, more));
  }

  private static String checkpointId(Store.Job job, long step) {
    return "ftckpt-" + job.id().substring("ftjob-".length()) + "-" + step;
  }

  private Map<String, Object> checkpoint(
      Store.Job job, Path dir, long step, Map<String, Object> metrics) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", checkpointId(job, step));
    m.put("object", "fine_tuning.job.checkpoint");
    long created;
    try {
      created = Files.getLastModifiedTime(dir.resolve("trainer_state.json")).toMillis() / 1000;
    } catch (IOException e) {
      created = job.createdAt();
    }
    m.put("created_at", created);
    m.put("fine_tuned_model_checkpoint", ModelResolver.fineTunedId(job) + ":ckpt-step-" + step);
    m.put("step_number", step);
    Map<String, Object> metricsOut = new LinkedHashMap<>(metrics);
    metricsOut.put("step", step);
    m.put("metrics", metricsOut);
    m.put("fine_tuning_job_id", job.id());
    return m;
  }

  void report(Context ctx) throws IOException {
    Store.Job job = find(ctx);
    Path report = Path.of(job.runDir()).resolve("eval").resolve("report.html");
    if (!Files.isRegularFile(report)) {
      throw ApiError.notFound("report for job", job.id());
    }
    ctx.contentType("text/html; charset=utf-8");
    // The report's own <meta> policy, as a header too, and no framing by other sites.
    ctx.header(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'");
    ctx.result(Files.readAllBytes(report));
  }

  /** OpenAI's {@code fine_tuning.job} object, with Whet's details under {@code whet}. */
  Map<String, Object> object(Store.Job j) {
    JobRequest req = JobRequest.fromJson(j.request());
    Path runDir = Path.of(j.runDir());
    Map<String, Object> hp = new LinkedHashMap<>();
    Path jobYaml = runDir.resolve("job.yaml");
    String task = null;
    if (Files.isRegularFile(jobYaml)) {
      JobConfig resolved = JobConfig.read(jobYaml); // the values the run really uses
      hp.put("n_epochs", number(resolved.epochs));
      hp.put("batch_size", resolved.batchSize);
      hp.put("learning_rate_multiplier", multiplier(resolved));
      if (resolved.tunesPreferences()) {
        hp.put("beta", resolved.dpo.beta);
      }
      task = resolved.task;
    } else {
      hp.putAll(requested(req));
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", j.id());
    m.put("object", "fine_tuning.job");
    m.put("model", j.model());
    m.put("created_at", j.createdAt());
    m.put("finished_at", j.finishedAt());
    m.put("status", j.status());
    m.put("fine_tuned_model", j.fineTunedModel());
    m.put("organization_id", j.project());
    m.put("training_file", req.trainingFile());
    m.put("validation_file", req.validationFile());
    m.put("hyperparameters", hp);
    String method = Task.DPO.equals(task) || "dpo".equals(req.methodType()) ? "dpo" : "supervised";
    m.put("method", Map.of("type", method, method, Map.of("hyperparameters", hp)));
    m.put("trained_tokens", j.trainedTokens());
    m.put("estimated_finish", j.terminal() ? null : j.estimatedFinish());
    m.put("error", Worker.error(j));
    m.put("result_files", j.resultFile() == null ? List.of() : List.of(j.resultFile()));
    m.put("seed", req.seed() == null ? JobRequest.DEFAULT_SEED : req.seed());
    m.put("suffix", req.suffix());
    m.put("user_provided_suffix", req.suffix());
    m.put("metadata", req.metadata().isEmpty() ? null : req.metadata());
    m.put("integrations", List.of());
    Map<String, Object> whet = new LinkedHashMap<>();
    whet.put("task", task);
    whet.put("options", options(req));
    whet.put("request", Map.of("hyperparameters", requested(req)));
    whet.put("model_deleted", j.modelDeleted());
    whet.put("run_dir", j.runDir());
    whet.put("eval", evalSummary(runDir));
    m.put("whet", whet);
    return m;
  }

  /** A resolved job's learning rate as OpenAI's multiplier of the method's auto rate. */
  private static double multiplier(JobConfig resolved) {
    return Math.round(resolved.lrValue() / resolved.autoLr() * 1e6) / 1e6;
  }

  /** The hyperparameters as the request asked for them ({@code auto} where it did not say). */
  private static Map<String, Object> requested(JobRequest req) {
    Map<String, Object> hp = new LinkedHashMap<>();
    hp.put("n_epochs", req.nEpochs().equals("auto") ? "auto" : number(req.nEpochs()));
    hp.put("batch_size", req.batchSize() == null ? "auto" : req.batchSize());
    hp.put("learning_rate_multiplier", req.lrMultiplier() == null ? "auto" : req.lrMultiplier());
    if ("dpo".equals(req.methodType())) {
      hp.put("beta", req.beta() == null ? "auto" : req.beta());
    }
    return hp;
  }

  /**
   * The request's own Whet options, dotted keys to JSON values ({@code "setfit.loss": "cosine"}):
   * sent back under {@code whet}, they ask for the same job again (the dashboard's clone).
   */
  private static Map<String, JsonNode> options(JobRequest req) {
    Map<String, JsonNode> out = new LinkedHashMap<>();
    if (req.workerCount() > 1) {
      out.put("workers", Http.tree(Integer.toString(req.workerCount())));
    }
    for (String o : req.whet()) {
      int eq = o.indexOf('=');
      out.put(o.substring(0, eq), Http.tree(o.substring(eq + 1)));
    }
    return out;
  }

  private static Object number(String s) {
    double x = Double.parseDouble(s);
    return x == Math.rint(x) ? (Object) (long) x : (Object) x;
  }

  /** The headline of the run's eval/eval.json: the model's scores, the baselines', the verdict. */
  static Map<String, Object> evalSummary(Path runDir) {
    Path file = runDir.resolve("eval").resolve("eval.json");
    if (!Files.isRegularFile(file)) {
      return null;
    }
    JsonNode e;
    try {
      e = Http.tree(Files.readString(file));
    } catch (IOException ex) {
      return null;
    }
    if (e.path("task").asText().equals(Task.SFT) || e.path("task").asText().equals(Task.DPO)) {
      return sftSummary(e, runDir);
    }
    if (e.path("task").asText().equals(Task.TOKEN_CLASSIFICATION.cliName())) {
      return entitySummary(e, runDir);
    }
    if (e.path("task").asText().equals(Task.SIMILARITY.cliName())
        || e.path("task").asText().equals(Task.EMBEDDING_PAIRS.cliName())) {
      return embeddingSummary(e, runDir);
    }
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("n", e.path("n").asInt());
    s.put("accuracy", e.path("accuracy").asDouble());
    s.put("f1_macro", e.path("f1_macro").asDouble());
    Map<String, Object> baselines = new LinkedHashMap<>();
    e.path("baselines")
        .fields()
        .forEachRemaining(
            b ->
                baselines.put(
                    b.getKey(),
                    Map.of(
                        "accuracy", b.getValue().path("accuracy").asDouble(),
                        "f1_macro", b.getValue().path("f1_macro").asDouble())));
    s.put("baselines", baselines);
    s.put("verdict", e.path("verdict").asText(null));
    s.put("headline", e.get("headline"));
    s.put("report", "/v1/whet/jobs/" + runDir.getFileName() + "/report");
    return s;
  }

  /**
   * A sentence-embedding run's eval.json headline: each metric (Spearman; recall@1, recall@10, MRR)
   * for the base and the fine-tuned model, and the verdict.
   */
  private static Map<String, Object> embeddingSummary(JsonNode e, Path runDir) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("task", e.path("task").asText());
    s.put("n", e.path("n").asInt());
    Map<String, Object> metrics = new LinkedHashMap<>();
    for (String k : List.of("spearman", "recall_at_1", "recall_at_10", "mrr")) {
      if (e.has(k)) {
        metrics.put(
            k, Map.of("base", e.path("base_" + k).asDouble(), "fine_tuned", e.path(k).asDouble()));
      }
    }
    s.put("metrics", metrics);
    s.put("verdict", e.path("verdict").asText(null));
    s.put("headline", e.get("headline"));
    s.put("report", "/v1/whet/jobs/" + runDir.getFileName() + "/report");
    return s;
  }

  /** A tagger's eval.json headline: strict entity F1, precision and recall of each system. */
  private static Map<String, Object> entitySummary(JsonNode e, Path runDir) {
    List<String> keys = List.of("entity_f1", "entity_precision", "entity_recall");
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("task", Task.TOKEN_CLASSIFICATION.cliName());
    s.put("n", e.path("n").asInt());
    keys.forEach(k -> s.put(k, e.path(k).asDouble()));
    Map<String, Object> baselines = new LinkedHashMap<>();
    e.path("baselines")
        .fields()
        .forEachRemaining(
            b -> {
              Map<String, Object> m = new LinkedHashMap<>();
              keys.forEach(k -> m.put(k, b.getValue().path(k).asDouble()));
              baselines.put(b.getKey(), m);
            });
    s.put("baselines", baselines);
    s.put("verdict", e.path("verdict").asText(null));
    s.put("headline", e.get("headline"));
    s.put("report", "/v1/whet/jobs/" + runDir.getFileName() + "/report");
    return s;
  }

  /**
   * An SFT run's eval.json headline: held-out loss and perplexity before and after, exact match and
   * ROUGE-L of the generated held-out completions before and after, and the forgetting check.
   */
  private static Map<String, Object> sftSummary(JsonNode e, Path runDir) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("task", e.path("task").asText());
    JsonNode held = e.path("held_out");
    Map<String, Object> h = new LinkedHashMap<>();
    for (String k : List.of("loss_before", "loss_after", "perplexity_before", "perplexity_after")) {
      h.put(k, numberOrNull(held.path(k)));
    }
    s.put("held_out", h);
    JsonNode gen = e.path("generation");
    Map<String, Object> g = new LinkedHashMap<>();
    g.put("n", gen.path("n").asInt());
    for (String k :
        List.of("exact_match_before", "exact_match_after", "rouge_l_before", "rouge_l_after")) {
      g.put(k, numberOrNull(gen.path(k)));
    }
    s.put("generation", g);
    if (e.has("preference")) {
      s.put("preference", e.get("preference")); // DPO's held-out pairs, as written
    }
    if (e.has("systems")) { // against prompting the base model
      List<Map<String, Object>> systems = new ArrayList<>();
      for (JsonNode sys : e.get("systems")) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("name", sys.path("name").asText());
        row.put("description", sys.path("description").asText());
        for (String k : List.of("loglik", "rouge_l", "prompt_tokens", "ms_per_request")) {
          row.put(k, numberOrNull(sys.path(k)));
        }
        systems.add(row);
      }
      s.put("systems", systems);
      s.put("verdict", e.path("verdict").asText(null));
      s.put("headline", e.get("headline"));
    }
    s.put("forgetting", e.get("forgetting")); // {task, before, after, verdict…} as written
    s.put("report", "/v1/whet/jobs/" + runDir.getFileName() + "/report");
    return s;
  }

  private static Double numberOrNull(JsonNode n) {
    return n.isNumber() ? n.asDouble() : null;
  }

  /** OpenAI's {@code fine_tuning.job.event} object. */
  static Map<String, Object> event(Store.Event e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("object", "fine_tuning.job.event");
    m.put("id", "ftevent-" + e.seq());
    m.put("created_at", e.createdAt());
    m.put("level", e.level());
    m.put("message", e.message());
    m.put("type", e.type());
    m.put("data", Http.tree(e.data()));
    return m;
  }
}
