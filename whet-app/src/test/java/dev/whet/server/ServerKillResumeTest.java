package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.model.TinyBert;
import dev.whet.model.WeightDiff;
import dev.whet.train.RunDir;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real crash of the service: `whet serve` in its own JVM is killed with SIGKILL while a job
 * trains; started again, it resumes the job from its last checkpoint, and the job finishes with the
 * same weights as the same job run without interruption. No file or event is lost, and the events
 * say what happened.
 */
@Tag("engine")
class ServerKillResumeTest {
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  final HttpClient http = HttpClient.newHttpClient();
  int port;
  String key;

  Process serve(String log) throws Exception {
    // Every checkpoint is kept for the comparison: past the default limit of 20.
    ProcessBuilder pb =
        dev.whet.cli.WhetProcess.builder(
                dir.resolve("home"),
                List.of(
                    "serve",
                    "--port",
                    Integer.toString(port),
                    "--train-threads",
                    "1",
                    "--max-keep-checkpoints",
                    "100"))
            .redirectErrorStream(true);
    pb.redirectOutput(dir.resolve(log).toFile());
    Process p = pb.start();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (System.nanoTime() < deadline && p.isAlive()) {
      try {
        if (call("GET", "/health", null).statusCode() == 200) {
          return p;
        }
      } catch (java.io.IOException notYet) {
        Thread.sleep(100);
      }
    }
    throw new AssertionError("whet serve did not start:\n" + Files.readString(dir.resolve(log)));
  }

  HttpResponse<String> call(String method, String path, String json) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("Authorization", "Bearer " + key)
            .header("Content-Type", "application/json")
            .method(
                method,
                json == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(json));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  JsonNode json(String method, String path, String body) throws Exception {
    HttpResponse<String> r = call(method, path, body);
    assertEquals(200, r.statusCode(), r.body());
    return JSON.readTree(r.body());
  }

  String upload(String content) throws Exception {
    String boundary = "b0undary";
    String body =
        "--"
            + boundary
            + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n--"
            + boundary
            + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"train.jsonl\"\r\n\r\n"
            + content
            + "\r\n--"
            + boundary
            + "--\r\n";
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/files"))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return JSON.readTree(r.body()).get("id").asText();
  }

  String createJob(String file) throws Exception {
    return json(
            "POST",
            "/v1/fine_tuning/jobs",
            """
            {"model": "tiny", "training_file": "%s", "seed": 4,
             "hyperparameters": {"n_epochs": 4, "batch_size": 8, "learning_rate_multiplier": 20},
             "whet": {"max_length": 32, "save_every": 5, "keep_checkpoints": 100,
                      "evaluate": false}}
            """
                .formatted(file))
        .get("id")
        .asText();
  }

  JsonNode waitDone(String id) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (System.nanoTime() < deadline) {
      JsonNode job = json("GET", "/v1/fine_tuning/jobs/" + id, null);
      String status = job.get("status").asText();
      if (List.of("succeeded", "failed", "cancelled").contains(status)) {
        return job;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("job " + id + " did not finish");
  }

  @Test
  void aKilledServerResumesItsJobToTheSameWeights() throws Exception {
    Path home = dir.resolve("home");
    TinyBert.create(home.resolve("models").resolve("tiny"), 9);
    try (ApiKeys keys = ApiKeys.open(home, null)) {
      key = keys.create("crash-test", "p").key();
    }
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    String data;
    try (InputStream in = TinyBert.class.getResourceAsStream("/data/sst2/dev-200.jsonl")) {
      data = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }

    Process first = serve("first.log");
    String file = upload(data);
    String killed = createJob(file);
    Path run = home.resolve("runs").resolve(killed);
    // 200 examples / 8 = 25 steps an epoch, 100 in all: kill once the step-15 checkpoint exists.
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (Files.notExists(run.resolve("checkpoint-15").resolve("trainer_state.json"))
        && first.isAlive()
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(
        "running",
        json("GET", "/v1/fine_tuning/jobs/" + killed, null).get("status").asText(),
        "the job must still be training when the server is killed");
    first.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup
    first.waitFor();
    assertTrue(Files.notExists(run.resolve("model")), "the killed job had not finished");
    // Steps the first server reported after its last checkpoint, as it does when the crash comes
    // a moment later (here the kill follows the checkpoint too closely for a report of its own).
    long lastCheckpoint;
    try (Stream<Path> dirs = Files.list(run)) {
      lastCheckpoint =
          dirs.filter(d -> Files.isRegularFile(d.resolve("trainer_state.json")))
              .mapToLong(d -> RunDir.stepOf(d))
              .max()
              .orElseThrow();
    }
    try (Store store = new Store(Db.open(null, home))) {
      for (long step = lastCheckpoint + 1; step <= lastCheckpoint + 3; step++) {
        store.addEvent(
            killed,
            "info",
            "metrics",
            "Step " + step + "/100: training loss=0.5",
            "{\"step\": " + step + ", \"total_steps\": 100, \"train_loss\": 0.5}");
      }
    }

    Process second = serve("second.log");
    try {
      JsonNode job = waitDone(killed);
      assertEquals("succeeded", job.get("status").asText(), job.toString());
      String whole = createJob(file);
      JsonNode wholeJob = waitDone(whole);
      assertEquals("succeeded", wholeJob.get("status").asText(), wholeJob.toString());

      List<String> messages = new ArrayList<>();
      json("GET", "/v1/fine_tuning/jobs/" + killed + "/events?order=asc&limit=10000", null)
          .get("data")
          .forEach(e -> messages.add(e.get("message").asText()));
      assertTrue(messages.get(0).startsWith("Created fine-tuning job"), messages.toString());
      assertTrue(
          messages.stream().anyMatch(m -> m.equals("saved checkpoint-15")),
          "events written before the crash are kept: " + messages);
      String resumed =
          messages.stream()
              .filter(m -> m.startsWith("Job resumed after interruption at step"))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no interruption event: " + messages));
      assertTrue(resumed.contains("the checkpoint at step 15"), resumed);
      // Issue 16, item 7: the steps trained again after the resume are listed once.
      List<Long> steps = new ArrayList<>();
      json("GET", "/v1/fine_tuning/jobs/" + killed + "/events?order=asc&limit=10000", null)
          .get("data")
          .forEach(
              e -> {
                if (e.get("type").asText().equals("metrics") && e.path("data").has("train_loss")) {
                  steps.add(e.get("data").get("step").asLong());
                }
              });
      assertEquals(
          steps.stream().distinct().count(), steps.size(), "a step reported twice: " + steps);
      assertTrue(steps.contains(100L), "the last step is reported: " + steps);
      assertEquals(job.get("trained_tokens").asLong(), wholeJob.get("trained_tokens").asLong());
      assertTrue(
          json("GET", "/v1/files/" + file, null).get("bytes").asLong() > 0, "the upload is kept");
      String csv =
          call("GET", "/v1/files/" + job.get("result_files").get(0).asText() + "/content", null)
              .body();
      assertEquals(101, csv.strip().split("\n").length, "one row per step, none twice");

      double worst =
          WeightDiff.maxAbs(
              run.resolve("model/model.safetensors"),
              home.resolve("runs").resolve(whole).resolve("model/model.safetensors"));
      System.out.println("service kill -9 and resume: max |weight difference| = " + worst);
      assertTrue(worst <= 1e-6, "max abs weight difference " + worst);
    } finally {
      second.destroy();
      second.waitFor(30, TimeUnit.SECONDS);
      second.destroyForcibly();
    }
  }
}
