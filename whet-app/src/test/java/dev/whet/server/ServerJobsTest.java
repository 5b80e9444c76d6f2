package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.model.TinyBert;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fine-tuning through the HTTP API on a tiny model: a job runs to the end with events, an event
 * stream, checkpoints, a result file, an evaluation report and a model; another is cancelled while
 * it trains.
 */
@Tag("engine")
class ServerJobsTest {
  @TempDir static Path dir;
  static TestServer s;
  static List<String> lines;

  @BeforeAll
  static void start() throws Exception {
    Path home = dir.resolve("home");
    TinyBert.create(home.resolve("models").resolve("tiny"), 3);
    try (InputStream in = TinyBert.class.getResourceAsStream("/data/sst2/dev-200.jsonl")) {
      lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
    s =
        TestServer.start(
            home, b -> b.trainThreads(1).routesWithModels(models -> new InferenceRoutes(models)));
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  static String upload(List<String> rows, String name) {
    TestServer.Response r = s.uploadText(name, String.join("\n", rows) + "\n");
    assertEquals(200, r.status(), r.body());
    return r.json().get("id").asText();
  }

  static JsonNode waitFor(String jobId, String... statuses) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    JsonNode job = null;
    while (System.nanoTime() < deadline) {
      job = s.get("/v1/fine_tuning/jobs/" + jobId, s.key).json();
      if (List.of(statuses).contains(job.get("status").asText())) {
        return job;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("job did not reach " + List.of(statuses) + ": " + job);
  }

  @Test
  void aJobTrainsToAModelWithEventsCheckpointsAndResults() throws Exception {
    String train = upload(lines.subList(0, 64), "train.jsonl");
    String val = upload(lines.subList(64, 96), "val.jsonl");
    TestServer.Response created =
        s.post(
            "/v1/fine_tuning/jobs",
            """
            {"model": "tiny", "training_file": "%s", "validation_file": "%s", "suffix": "sst",
             "seed": 7, "metadata": {"team": "search"},
             "method": {"type": "supervised", "supervised": {"hyperparameters":
                {"n_epochs": 2, "batch_size": 16, "learning_rate_multiplier": 20}}},
             "whet": {"max_length": 32}}
            """
                .formatted(train, val),
            s.key);
    assertEquals(200, created.status(), created.body());
    JsonNode job = created.json();
    String id = job.get("id").asText();
    assertTrue(id.startsWith("ftjob-"));
    assertEquals("fine_tuning.job", job.get("object").asText());
    assertTrue(List.of("queued", "running").contains(job.get("status").asText()), job.toString());
    assertEquals("search", job.get("metadata").get("team").asText());

    // The live stream: everything so far, then new events, then [DONE] when the job ends.
    HttpRequest.Builder sse =
        HttpRequest.newBuilder(
            URI.create(s.url("/v1/fine_tuning/jobs/" + id + "/events?stream=true")));
    TestServer.Response stream = s.send(sse, s.key);
    assertEquals(200, stream.status());
    List<String> data = new ArrayList<>();
    for (String line : stream.body().split("\n")) {
      if (line.startsWith("data: ")) {
        data.add(line.substring(6));
      }
    }
    assertEquals("[DONE]", data.get(data.size() - 1));
    assertTrue(data.stream().anyMatch(d -> d.contains("\"type\":\"metrics\"")), "metrics streamed");

    job = waitFor(id, "succeeded", "failed", "cancelled");
    assertEquals("succeeded", job.get("status").asText(), job.toString());
    String model = "ft:tiny:sst:" + id;
    assertEquals(model, job.get("fine_tuned_model").asText());
    assertTrue(job.get("trained_tokens").asLong() > 0);
    assertEquals(2, job.get("hyperparameters").get("n_epochs").asInt());
    assertEquals(16, job.get("hyperparameters").get("batch_size").asInt());
    assertEquals(20.0, job.get("hyperparameters").get("learning_rate_multiplier").asDouble(), 1e-9);
    assertEquals("classify", job.get("whet").get("task").asText());
    assertNotNull(job.get("whet").get("eval"), job.toString());
    assertTrue(job.get("whet").get("eval").has("f1_macro"), job.toString());
    assertEquals(200, s.get("/v1/whet/jobs/" + id + "/report", s.key).status());
    java.net.http.HttpHeaders reportHeaders =
        s.http
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(s.url("/v1/whet/jobs/" + id + "/report")))
                    .header("Authorization", "Bearer " + s.key)
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.discarding())
            .headers();
    String reportPolicy = reportHeaders.firstValue("Content-Security-Policy").orElse("");
    assertTrue(
        reportPolicy.contains("default-src 'none'") && reportPolicy.contains("frame-ancestors"),
        "the served report carries its policy as a header: " + reportPolicy);
    assertEquals(404, s.get("/v1/whet/jobs/" + id + "/report", s.otherKey).status());

    JsonNode events = s.get("/v1/fine_tuning/jobs/" + id + "/events?limit=1000", s.key).json();
    List<JsonNode> all = new ArrayList<>();
    events.get("data").forEach(all::add);
    assertEquals("fine_tuning.job.event", all.get(0).get("object").asText());
    assertTrue(
        all.get(0).get("message").asText().contains("successfully completed"), "newest first");
    JsonNode metric =
        all.stream().filter(e -> e.get("type").asText().equals("metrics")).findFirst().get();
    for (String k : List.of("step", "total_steps", "train_loss", "learning_rate")) {
      assertTrue(
          metric.get("data").has(k) || metric.get("data").has("valid_loss"), metric.toString());
    }
    assertTrue(
        all.stream().anyMatch(e -> e.path("data").has("valid_f1_macro")), "validation metrics");
    JsonNode asc = s.get("/v1/fine_tuning/jobs/" + id + "/events?order=asc&limit=2", s.key).json();
    assertTrue(
        asc.get("data").get(0).get("message").asText().startsWith("Created fine-tuning job"));
    assertTrue(asc.get("has_more").asBoolean());
    String after = asc.get("data").get(1).get("id").asText();
    JsonNode next =
        s.get("/v1/fine_tuning/jobs/" + id + "/events?order=asc&limit=1&after=" + after, s.key)
            .json();
    assertTrue(next.get("data").get(0).get("message").asText().contains("validated"));

    JsonNode checkpoints = s.get("/v1/fine_tuning/jobs/" + id + "/checkpoints", s.key).json();
    assertTrue(checkpoints.get("data").size() >= 1, checkpoints.toString());
    // Issue 16, item 9: a finished run keeps its checkpoints' weights, not their optimizer state.
    Path runDir = Path.of(job.get("whet").get("run_dir").asText());
    List<Path> saved = new dev.whet.train.RunDir(runDir).checkpoints();
    assertFalse(saved.isEmpty());
    for (Path c : saved) {
      assertTrue(Files.isRegularFile(c.resolve("model.safetensors")), c.toString());
      assertTrue(Files.notExists(c.resolve("optimizer.safetensors")), c + " kept its moments");
    }
    // Issue 16, item 9: the project's disk is its files and its runs.
    JsonNode usage = s.get("/v1/whet/usage", s.key).json();
    assertEquals("whet.usage", usage.get("object").asText(), usage.toString());
    long runBytes = dev.whet.io.DiskFiles.size(runDir);
    assertTrue(runBytes > 0 && usage.get("runs_bytes").asLong() >= runBytes, usage.toString());
    assertTrue(usage.get("files_bytes").asLong() > 0, usage.toString());
    assertTrue(usage.get("quota_bytes").isNull(), "no quota by default: " + usage);
    JsonNode ckpt = checkpoints.get("data").get(0);
    assertEquals("fine_tuning.job.checkpoint", ckpt.get("object").asText());
    assertEquals(8, ckpt.get("step_number").asInt(), "newest first: 64 / 16 × 2 epochs");
    assertTrue(ckpt.get("metrics").has("train_loss"), ckpt.toString());
    assertTrue(ckpt.get("metrics").has("valid_loss"), ckpt.toString());
    assertEquals(model + ":ckpt-step-8", ckpt.get("fine_tuned_model_checkpoint").asText());

    String resultFile = job.get("result_files").get(0).asText();
    JsonNode file = s.get("/v1/files/" + resultFile, s.key).json();
    assertEquals("fine-tune-results", file.get("purpose").asText());
    String csv = s.get("/v1/files/" + resultFile + "/content", s.key).body();
    assertTrue(csv.startsWith("step,"), csv);
    assertEquals(9, csv.strip().split("\n").length, "a header and one row per step:\n" + csv);

    JsonNode models = s.get("/v1/models", s.key).json();
    List<String> ids = new ArrayList<>();
    Map<String, String> kinds = new HashMap<>();
    models
        .get("data")
        .forEach(
            m -> {
              ids.add(m.get("id").asText());
              kinds.put(m.get("id").asText(), m.path("whet").path("kind").asText());
            });
    assertTrue(
        ids.contains(model) && ids.contains("tiny") && ids.contains("minilm-l6"), ids.toString());
    assertEquals("classifier", kinds.get(model), "which endpoint serves it");
    assertEquals("encoder", kinds.get("minilm-l6"));
    assertFalse(
        s.get("/v1/models", s.otherKey).body().contains(model), "another project does not see it");
    assertEquals(404, s.get("/v1/models/" + model, s.otherKey).status());
    assertEquals(404, s.delete("/v1/models/" + model, s.otherKey).status());
    Path dirOfModel = s.server.models().resolve(new Caller("alpha", "k"), model);
    assertTrue(Files.isRegularFile(dirOfModel.resolve("model.safetensors")));
    assertEquals(200, s.get("/v1/models/" + model, s.key).status());
    assertEquals(403, s.delete("/v1/models/tiny", s.key).status());
    assertTrue(s.delete("/v1/models/" + model, s.key).json().get("deleted").asBoolean());
    assertEquals(404, s.get("/v1/models/" + model, s.key).status());
    assertTrue(Files.notExists(dirOfModel));
    assertTrue(
        new dev.whet.train.RunDir(runDir).checkpoints().isEmpty(),
        "a deleted model's checkpoints go with it");

    JsonNode list = s.get("/v1/fine_tuning/jobs", s.key).json();
    assertTrue(list.toString().contains(id));
    assertFalse(s.get("/v1/fine_tuning/jobs", s.otherKey).body().contains(id));
  }

  /** Issue 16, item 8: absurd resources are refused at creation, naming the field and limit. */
  @Test
  void aConllFileTrainsATaggerThatAnswersEntities() throws Exception {
    // Issue 18 through the service: a CoNLL upload implies the tokens task; the job's model is
    // evaluated by entity F1 and served at /v1/whet/entities.
    String conll;
    try (InputStream in = TinyBert.class.getResourceAsStream("/data/wnut17_dev_full.conll")) {
      conll = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    String[] sentences = conll.strip().split("\n\\s*\n");
    String train =
        s.uploadText(
                "ner-train.conll", String.join("\n\n", List.of(sentences).subList(0, 64)) + "\n")
            .json()
            .get("id")
            .asText();
    String val =
        s.uploadText(
                "ner-val.conll", String.join("\n\n", List.of(sentences).subList(64, 80)) + "\n")
            .json()
            .get("id")
            .asText();
    JsonNode job = oneEpochJob(train, val, "ner");
    assertEquals("succeeded", job.get("status").asText(), job.toString());
    assertEquals("tokens", job.get("whet").get("task").asText());
    JsonNode eval = job.get("whet").get("eval");
    assertTrue(eval.get("entity_f1").isNumber(), job.toString());
    assertTrue(eval.get("baselines").has("gazetteer"), eval.toString());
    TestServer.Response answer =
        s.post(
            "/v1/whet/entities",
            TestServer.JSON.writeValueAsString(
                java.util.Map.of(
                    "model", job.get("fine_tuned_model").asText(),
                    "input", List.of("Taylor Swift sang in New York."))),
            s.key);
    assertEquals(200, answer.status(), answer.body());
    assertEquals("entities", answer.json().get("data").get(0).get("object").asText());
  }

  @Test
  void aSimilarityFileTrainsAnEmbeddingModelThatServesEmbeddings() throws Exception {
    // Issue 18 through the service: scored sentence pairs imply the similarity task; the job is
    // evaluated by Spearman before and after, and its model answers /v1/embeddings.
    List<String> pairs = stsPairs();
    String train = upload(pairs.subList(0, 160), "sts-train.jsonl");
    String val = upload(pairs.subList(160, 200), "sts-val.jsonl");
    JsonNode job = oneEpochJob(train, val, "sts");
    assertEquals("succeeded", job.get("status").asText(), job.toString());
    assertEquals("similarity", job.get("whet").get("task").asText());
    JsonNode spearman = job.get("whet").get("eval").get("metrics").get("spearman");
    assertTrue(
        spearman.get("base").isNumber() && spearman.get("fine_tuned").isNumber(), job.toString());
    assertTrue(Math.abs(spearman.get("fine_tuned").asDouble()) <= 1, spearman.toString());
    TestServer.Response answer =
        s.post(
            "/v1/embeddings",
            TestServer.JSON.writeValueAsString(
                java.util.Map.of(
                    "model",
                    job.get("fine_tuned_model").asText(),
                    "input",
                    List.of("A plane is taking off.", "A man is playing a flute."))),
            s.key);
    assertEquals(200, answer.status(), answer.body());
    JsonNode data = answer.json().get("data");
    assertEquals(2, data.size());
    double norm = 0;
    for (JsonNode x : data.get(0).get("embedding")) norm += x.asDouble() * x.asDouble();
    assertTrue(data.get(0).get("embedding").size() > 0 && norm > 0, answer.body());
  }

  @Test
  void aPlanResolvesEveryAutoAndEstimatesWithoutCreatingAJob() throws Exception {
    String train = upload(lines.subList(0, 100), "plan-train.jsonl");
    int before = s.get("/v1/fine_tuning/jobs?limit=100", s.key).json().get("data").size();
    TestServer.Response plan =
        s.post(
            "/v1/whet/jobs/plan",
            """
            {"model": "tiny", "training_file": "%s"}
            """
                .formatted(train),
            s.key);
    assertEquals(200, plan.status(), plan.body());
    JsonNode r = plan.json().get("resolved");
    assertEquals("classify", r.get("task").asText());
    assertEquals("full", r.get("method").asText());
    assertTrue(r.get("n_epochs").asInt() > 0, r.toString());
    // No validation file: a tenth held out, as the job will.
    assertEquals(90, r.get("training_examples").asInt());
    assertEquals(10, r.get("held_out_examples").asInt());
    assertTrue(plan.json().get("estimate").get("steps").asLong() > 0, plan.body());
    assertTrue(plan.json().get("estimate").get("memory_bytes").asLong() > 0, plan.body());
    assertEquals(before, s.get("/v1/fine_tuning/jobs?limit=100", s.key).json().get("data").size());
    // The plan refuses what creation refuses, with the same message.
    String unknownFile = "{\"model\": \"tiny\", \"training_file\": \"file-nope\"}";
    TestServer.Response bad = s.post("/v1/whet/jobs/plan", unknownFile, s.key);
    TestServer.Response refused = s.post("/v1/fine_tuning/jobs", unknownFile, s.key);
    assertTrue(bad.status() >= 400, bad.body());
    assertEquals(refused.status(), bad.status());
    assertEquals(refused.body(), bad.body());
  }

  @Test
  void severalWorkersNeedPostgres() {
    String file = upload(List.of("{\"text\": \"good\", \"label\": \"pos\"}"), "w.jsonl");
    for (String workers : List.of("2", "0", "\"two\"")) {
      TestServer.Response r =
          s.post(
              "/v1/fine_tuning/jobs",
              "{\"model\": \"tiny\", \"training_file\": \""
                  + file
                  + "\", \"whet\": {\"workers\": "
                  + workers
                  + "}}",
              s.key);
      assertEquals(400, r.status(), r.body());
      assertEquals("whet.workers", r.json().at("/error/param").asText(), r.body());
      if (workers.equals("2")) {
        assertTrue(r.body().contains("PostgreSQL"), r.body());
      }
    }
  }

  @Test
  void preferencePairsTrainWithDpoOnlyAndDpoOnlyOnPreferencePairs() {
    String prefs =
        upload(
            List.of(
                "{\"prompt\": \"Hi\", \"chosen\": \"Hello!\", \"rejected\": \"Go away.\"}",
                "{\"prompt\": \"Bye\", \"chosen\": \"Goodbye!\", \"rejected\": \"Finally.\"}"),
            "prefs.jsonl");
    assertEquals(
        "preference", s.get("/v1/files/" + prefs, s.key).json().get("whet").get("task").asText());
    TestServer.Response supervised =
        s.post(
            "/v1/fine_tuning/jobs",
            "{\"model\": \"tiny\", \"training_file\": \""
                + prefs
                + "\", \"method\": {\"type\": \"supervised\"}}",
            s.key);
    assertEquals(400, supervised.status(), supervised.body());
    assertTrue(supervised.body().contains("train with method 'dpo'"), supervised.body());
    String labels = upload(List.of("{\"text\": \"good\", \"label\": \"pos\"}"), "one.jsonl");
    TestServer.Response dpo =
        s.post(
            "/v1/fine_tuning/jobs",
            "{\"model\": \"tiny\", \"training_file\": \""
                + labels
                + "\", \"method\": {\"type\": \"dpo\", \"dpo\": {\"hyperparameters\":"
                + " {\"beta\": 0.2}}}}",
            s.key);
    assertEquals(400, dpo.status(), dpo.body());
    assertTrue(dpo.body().contains("method 'dpo' trains on preference pairs"), dpo.body());
    TestServer.Response unknown =
        s.post(
            "/v1/fine_tuning/jobs",
            "{\"model\": \"tiny\", \"training_file\": \""
                + prefs
                + "\", \"method\": {\"type\": \"dpo\", \"dpo\": {\"hyperparameters\":"
                + " {\"gamma\": 1}}}}",
            s.key);
    assertEquals(400, unknown.status(), unknown.body());
    assertTrue(unknown.body().contains("method.dpo.hyperparameters.gamma"), unknown.body());
  }

  /** A one-epoch job on the tiny model with these files, waited for until it ends. */
  static JsonNode oneEpochJob(String train, String val, String suffix) throws Exception {
    TestServer.Response created =
        s.post(
            "/v1/fine_tuning/jobs",
            """
            {"model": "tiny", "training_file": "%s", "validation_file": "%s", "suffix": "%s",
             "method": {"type": "supervised", "supervised": {"hyperparameters":
                {"n_epochs": 1, "batch_size": 16}}},
             "whet": {"max_length": 48}}
            """
                .formatted(train, val, suffix),
            s.key);
    assertEquals(200, created.status(), created.body());
    return waitFor(created.json().get("id").asText(), "succeeded", "failed");
  }

  /** The 200 STS-B training pairs of the test resources as similarity lines. */
  static List<String> stsPairs() throws Exception {
    List<String> pairs = new java.util.ArrayList<>();
    try (InputStream in = TinyBert.class.getResourceAsStream("/data/stsb_train.csv")) {
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        String[] f = line.split("\t");
        pairs.add(
            TestServer.JSON.writeValueAsString(
                java.util.Map.of(
                    "sentence1", f[5], "sentence2", f[6], "score", Double.parseDouble(f[4]))));
      }
    }
    return pairs;
  }

  @Test
  void jobsPastTheOperatorsLimitsAreRefusedAtCreation() {
    String train = upload(lines, "limits.jsonl");
    String[][] cases = {
      {"\"hyperparameters\": {\"n_epochs\": 1e9}", "hyperparameters.n_epochs"},
      {"\"hyperparameters\": {\"batch_size\": 1000000}", "hyperparameters.batch_size"},
      {"\"whet\": {\"method\": \"lora\", \"lora\": {\"rank\": 1000000}}", "whet.lora.rank"},
      {"\"whet\": {\"max_length\": 1000000000}", "whet.max_length"},
      {"\"whet\": {\"max_steps\": 1000000000000}", "whet.max_steps"},
      {"\"whet\": {\"keep_checkpoints\": 1000000, \"save_every\": 1}", "whet.keep_checkpoints"},
      {"\"whet\": {\"threads\": 64}", "whet.threads"},
    };
    int before = s.get("/v1/fine_tuning/jobs?limit=100", s.key).json().get("data").size();
    for (String[] c : cases) {
      TestServer.Response r =
          s.post(
              "/v1/fine_tuning/jobs",
              "{\"model\": \"tiny\", \"training_file\": \"" + train + "\", " + c[0] + "}",
              s.key);
      assertEquals(400, r.status(), c[0] + ": " + r.body());
      JsonNode e = r.json().get("error");
      assertEquals(c[1], e.get("param").asText(), r.body());
      assertEquals("limit_exceeded", e.get("code").asText(), r.body());
      assertTrue(e.get("message").asText().contains("at most"), r.body());
    }
    assertEquals(
        before,
        s.get("/v1/fine_tuning/jobs?limit=100", s.key).json().get("data").size(),
        "nothing was queued");
  }

  /** Issue 16, item 6: a failure names the file by its id; no event shows a server path. */
  @Test
  void aFailedJobNamesItsFileByIdNeverByServerPath() throws Exception {
    List<String> oneLabel =
        lines.stream()
            .map(l -> l.replaceAll("\"label\": *\"[^\"]*\"", "\"label\": \"a\""))
            .toList();
    String train = upload(oneLabel, "one-label.jsonl");
    TestServer.Response created =
        s.post(
            "/v1/fine_tuning/jobs",
            """
            {"model": "tiny", "training_file": "%s", "whet": {"max_length": 32}}
            """
                .formatted(train),
            s.key);
    assertEquals(200, created.status(), created.body());
    String id = created.json().get("id").asText();
    JsonNode job = waitFor(id, "failed", "succeeded");
    assertEquals("failed", job.get("status").asText(), job.toString());
    String message = job.at("/error/message").asText();
    System.out.println("one-label job: " + message);
    assertTrue(message.contains(train), "names the file id: " + message);
    String home = s.home.toAbsolutePath().toString();
    assertFalse(message.contains(home), "a server path leaked: " + message);
    String events = s.get("/v1/fine_tuning/jobs/" + id + "/events?limit=100", s.key).body();
    assertFalse(events.contains(home), "a server path leaked into the events: " + events);
  }

  @Test
  void cancellingARunningJobStopsItAndKeepsItsCheckpoints() throws Exception {
    String train = upload(lines, "long.jsonl");
    TestServer.Response created =
        s.post(
            "/v1/fine_tuning/jobs",
            """
            {"model": "tiny", "training_file": "%s",
             "hyperparameters": {"n_epochs": 100, "batch_size": 8},
             "whet": {"max_length": 32, "save_every": 5, "evaluate": false}}
            """
                .formatted(train),
            s.key);
    assertEquals(200, created.status(), created.body());
    String id = created.json().get("id").asText();
    waitFor(id, "running");
    Path run =
        Path.of(
            s.get("/v1/fine_tuning/jobs/" + id, s.key).json().get("whet").get("run_dir").asText());
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (Files.notExists(run.resolve("checkpoint-5").resolve("trainer_state.json"))
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    JsonNode cancelled = s.post("/v1/fine_tuning/jobs/" + id + "/cancel", "", s.key).json();
    assertEquals("cancelled", cancelled.get("status").asText());
    long stopDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    boolean stopped = false;
    while (!stopped && System.nanoTime() < stopDeadline) {
      stopped =
          s.get("/v1/fine_tuning/jobs/" + id + "/events?limit=5", s.key)
              .body()
              .contains("Training stopped at step");
      Thread.sleep(50);
    }
    assertTrue(stopped, "training stopped promptly");
    assertEquals(
        "cancelled", s.get("/v1/fine_tuning/jobs/" + id, s.key).json().get("status").asText());
    assertTrue(
        Files.isRegularFile(run.resolve("checkpoint-5").resolve("model.safetensors")),
        "saved checkpoints' weights are kept");
    assertTrue(
        Files.notExists(run.resolve("checkpoint-5").resolve("optimizer.safetensors")),
        "a cancelled job never resumes: its optimizer state goes");
    assertTrue(Files.notExists(run.resolve("model")));
    assertEquals(400, s.post("/v1/fine_tuning/jobs/" + id + "/cancel", "", s.key).status());
  }
}
