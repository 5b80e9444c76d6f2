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
 * Issue 16, item 9: a project's disk quota. One MiB holds a small training file but not a second,
 * larger one, nor a job's run (the tiny model's run needs about 40 MB with its checkpoints).
 */
@Tag("engine")
class ServerQuotaTest {
  @TempDir static Path dir;
  static TestServer s;
  static String data;

  @BeforeAll
  static void start() throws Exception {
    Path home = dir.resolve("home");
    TinyBert.create(home.resolve("models").resolve("tiny"), 3);
    try (InputStream in = TinyBert.class.getResourceAsStream("/data/sst2/dev-200.jsonl")) {
      data = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    s = TestServer.start(home, b -> b.trainThreads(1).worker(false).maxProjectDiskBytes(1 << 20));
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  static void assertQuotaError(TestServer.Response r) {
    assertEquals(413, r.status(), r.body());
    JsonNode e = r.json().get("error");
    assertEquals("insufficient_quota", e.get("code").asText(), r.body());
    String m = e.get("message").asText();
    assertTrue(m.contains("of its 1.0 MiB disk quota"), m);
    assertTrue(m.contains("--max-project-disk"), m);
  }

  @Test
  void uploadsAndJobsPastTheQuotaAreRefusedAndUsageShowsIt() {
    TestServer.Response small = s.uploadText("train.jsonl", data);
    assertEquals(200, small.status(), small.body());
    String train = small.json().get("id").asText();

    // 1.2 MB of valid lines: refused, and nothing of it is kept.
    String big = data.repeat(60);
    assertTrue(big.length() > (1 << 20));
    assertQuotaError(s.uploadText("big.jsonl", big));

    assertQuotaError(
        s.post(
            "/v1/fine_tuning/jobs",
            "{\"model\": \"tiny\", \"training_file\": \"" + train + "\"}",
            s.key));
    assertEquals(
        0,
        s.get("/v1/fine_tuning/jobs", s.key).json().get("data").size(),
        "the refused job was not created");

    JsonNode usage = s.get("/v1/whet/usage", s.key).json();
    assertEquals(data.getBytes(StandardCharsets.UTF_8).length, usage.get("files_bytes").asLong());
    assertEquals(0, usage.get("runs_bytes").asLong());
    assertEquals(1 << 20, usage.get("quota_bytes").asLong());
    assertEquals(
        1,
        s.get("/v1/files", s.key).json().get("data").size(),
        "only the file within the quota is listed");

    // Quotas are per project: the other project's first upload is within its own.
    assertEquals(
        200,
        s.upload(
                "/v1/files",
                "t.jsonl",
                data.getBytes(StandardCharsets.UTF_8),
                "fine-tune",
                s.otherKey)
            .status());
  }
}
