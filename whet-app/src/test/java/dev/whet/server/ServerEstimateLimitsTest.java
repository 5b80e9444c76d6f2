package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.model.TinyBert;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16, item 8: a job is priced before it is queued ({@code JobEstimate}), the estimate is in
 * its events, and one past the operator's time or memory limit is refused with the estimate.
 */
@Tag("engine")
class ServerEstimateLimitsTest {
  @TempDir static Path dir;
  static TestServer s;
  static String train;

  /**
   * A second and 256 MiB per job. The tiny model (two layers, 32 wide) trains 2 epochs of 200 short
   * texts in about 0.02 s at 100 GFLOP/s and needs about 50 MiB at batch 32; 1,000 epochs take
   * about 10 s, and a batch of 100,000 needs about 100 GB: margins of 50 either way, so the
   * measured rate's noise cannot flip an outcome.
   */
  static final JobLimits TIGHT =
      new JobLimits(1000, 1_000_000, 100_000, 8192, 256, 20, 1.0 / 3600, 256L << 20);

  @BeforeAll
  static void start() throws Exception {
    Path home = dir.resolve("home");
    TinyBert.create(home.resolve("models").resolve("tiny"), 3);
    String data;
    try (InputStream in = TinyBert.class.getResourceAsStream("/data/sst2/dev-200.jsonl")) {
      data = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    // The worker stays off: these jobs are priced, not run.
    s = TestServer.start(home, b -> b.trainThreads(1).limits(TIGHT).worker(false));
    TestServer.Response r = s.uploadText("train.jsonl", data);
    assertEquals(200, r.status(), r.body());
    train = r.json().get("id").asText();
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  TestServer.Response create(String options) {
    return s.post(
        "/v1/fine_tuning/jobs",
        "{\"model\": \"tiny\", \"training_file\": \"" + train + "\"" + options + "}",
        s.key);
  }

  @Test
  void aJobThatFitsIsQueuedWithItsEstimate() {
    TestServer.Response r = create(", \"hyperparameters\": {\"n_epochs\": 2}");
    assertEquals(200, r.status(), r.body());
    String id = r.json().get("id").asText();
    String events = s.get("/v1/fine_tuning/jobs/" + id + "/events?limit=100", s.key).body();
    assertTrue(events.contains("Estimated on this server: about "), events);
    assertTrue(events.contains(" steps, "), events);
  }

  @Test
  void aJobPastTheTimeLimitIsRefusedWithItsEstimate() {
    TestServer.Response r = create(", \"hyperparameters\": {\"n_epochs\": 1000}");
    assertEquals(400, r.status(), r.body());
    JsonNode e = r.json().get("error");
    assertEquals("limit_exceeded", e.get("code").asText(), r.body());
    assertEquals("hyperparameters.n_epochs", e.get("param").asText(), r.body());
    assertTrue(e.get("message").asText().contains("would train for about"), r.body());
    assertTrue(e.get("message").asText().contains("--max-job-hours"), r.body());
  }

  @Test
  void aJobPastTheMemoryLimitIsRefusedWithItsEstimate() {
    TestServer.Response r = create(", \"hyperparameters\": {\"batch_size\": 100000}");
    assertEquals(400, r.status(), r.body());
    JsonNode e = r.json().get("error");
    assertEquals("limit_exceeded", e.get("code").asText(), r.body());
    assertEquals("hyperparameters.batch_size", e.get("param").asText(), r.body());
    assertTrue(e.get("message").asText().contains("--max-job-memory"), r.body());
    assertTrue(e.get("message").asText().contains("GiB"), r.body());
  }
}
