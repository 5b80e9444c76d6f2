package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service's edges without training: bearer keys, project isolation, OpenAI-shaped errors for
 * bad input (never a stack trace), upload validation, size limits and file names.
 */
class ServerAuthTest {
  @TempDir static Path dir;
  static TestServer s;

  static final String DATA =
      String.join(
          "\n",
          Stream.iterate(0, i -> i + 1)
              .limit(12)
              .map(
                  i ->
                      "{\"text\": \"example "
                          + i
                          + "\", \"label\": \""
                          + (i % 2 == 0 ? "a" : "b")
                          + "\"}")
              .toList());

  @BeforeAll
  static void start() {
    s = TestServer.start(dir.resolve("home"), b -> b.maxUploadBytes(4096).worker(false));
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  static void assertError(TestServer.Response r, int status, String type) {
    assertEquals(status, r.status(), r.body());
    JsonNode e = r.json().get("error");
    assertNotNull(e, r.body());
    assertEquals(type, e.get("type").asText(), r.body());
    assertTrue(e.get("message").asText().length() > 5, r.body());
    assertFalse(r.body().contains("at dev.whet"), "a stack trace leaked: " + r.body());
    assertFalse(r.body().contains("Exception"), "an exception name leaked: " + r.body());
  }

  @Test
  void healthIsOpenEverythingElseNeedsAKey() {
    TestServer.Response h = s.get("/health", null);
    assertEquals(200, h.status());
    assertEquals("ok", h.json().get("status").asText());
    for (String path :
        List.of("/v1/files", "/v1/fine_tuning/jobs", "/v1/models", "/v1/files/file-x")) {
      assertError(s.get(path, null), 401, "invalid_request_error");
      assertError(s.get(path, "whet-not-a-key"), 401, "invalid_request_error");
    }
    assertError(s.post("/v1/fine_tuning/jobs", "{}", null), 401, "invalid_request_error");
    assertEquals(200, s.get("/v1/models", s.key).status());
  }

  @Test
  void aRevokedKeyStopsWorking() {
    ApiKeys.Created k;
    try (ApiKeys keys = ApiKeys.open(s.home, null)) {
      k = keys.create("short-lived", "alpha");
    }
    assertEquals(200, s.get("/v1/files", k.key()).status());
    try (ApiKeys keys = ApiKeys.open(s.home, null)) {
      assertTrue(keys.revoke(k.id()));
      assertTrue(
          keys.list().stream().anyMatch(i -> i.id().equals(k.id()) && i.revokedAt() != null));
    }
    assertError(s.get("/v1/files", k.key()), 401, "invalid_request_error");
  }

  @Test
  void anotherProjectsFilesAndJobsAreNotFound() {
    TestServer.Response up = s.uploadText("train.jsonl", DATA);
    assertEquals(200, up.status(), up.body());
    String id = up.json().get("id").asText();
    assertEquals(200, s.get("/v1/files/" + id, s.key).status());
    assertError(s.get("/v1/files/" + id, s.otherKey), 404, "invalid_request_error");
    assertError(s.get("/v1/files/" + id + "/content", s.otherKey), 404, "invalid_request_error");
    assertError(s.delete("/v1/files/" + id, s.otherKey), 404, "invalid_request_error");
    assertTrue(
        s.get("/v1/files", s.otherKey).json().get("data").isEmpty(),
        "the other project lists none of alpha's files");
    TestServer.Response job =
        s.post(
            "/v1/fine_tuning/jobs",
            "{\"model\": \"minilm-l6\", \"training_file\": \"" + id + "\"}",
            s.otherKey);
    assertError(job, 404, "invalid_request_error");
    assertError(
        s.get("/v1/fine_tuning/jobs/ftjob-doesnotexist", s.key), 404, "invalid_request_error");
    assertError(
        s.get("/v1/models/ft:minilm-l6::ftjob-doesnotexist", s.key), 404, "invalid_request_error");
    assertError(s.get("/v1/models/..%2F..%2Fetc", s.key), 404, "invalid_request_error");
  }

  @Test
  void malformedJsonAndWrongTypesAre400() {
    assertError(s.post("/v1/fine_tuning/jobs", "{not json", s.key), 400, "invalid_request_error");
    assertError(s.post("/v1/fine_tuning/jobs", "[1, 2]", s.key), 400, "invalid_request_error");
    TestServer.Response r =
        s.post("/v1/fine_tuning/jobs", "{\"model\": 5, \"training_file\": \"f\"}", s.key);
    assertError(r, 400, "invalid_request_error");
    assertEquals("model", r.json().get("error").get("param").asText());
    r =
        s.post(
            "/v1/fine_tuning/jobs",
            "{\"model\": \"minilm-l6\", \"training_file\": \"f\","
                + " \"hyperparameters\": {\"n_epochs\": \"many\"}}",
            s.key);
    assertError(r, 400, "invalid_request_error");
    assertEquals("hyperparameters.n_epochs", r.json().get("error").get("param").asText());
    r =
        s.post(
            "/v1/fine_tuning/jobs",
            "{\"model\": \"minilm-l6\", \"training_file\": \"f\", \"whet\": {\"out\": \"/tmp\"}}",
            s.key);
    assertError(r, 400, "invalid_request_error");
    assertError(s.get("/v1/files?limit=abc", s.key), 400, "invalid_request_error");
    assertError(s.get("/v1/no/such/endpoint", s.key), 404, "invalid_request_error");
  }

  @Test
  void aBadUploadIsRefusedWithTheLineAndField() {
    String bad = "{\"text\": \"ok\", \"label\": \"a\"}\n{\"text\": \"no label here\"}\n";
    TestServer.Response r = s.uploadText("data.jsonl", bad);
    assertError(r, 400, "invalid_request_error");
    JsonNode e = r.json().get("error");
    assertEquals("invalid_file", e.get("code").asText());
    assertTrue(e.get("message").asText().contains("data.jsonl:2"), e.toString());
    assertTrue(e.get("message").asText().contains("\"label\""), e.toString());

    TestServer.Response v =
        s.upload(
            "/v1/whet/files/validate",
            "data.jsonl",
            bad.getBytes(java.nio.charset.StandardCharsets.UTF_8),
            null,
            s.key);
    assertEquals(200, v.status(), v.body());
    assertFalse(v.json().get("valid").asBoolean());
    JsonNode first = v.json().get("errors").get(0);
    assertEquals(2, first.get("line").asInt());
    assertEquals("label", first.get("field").asText());
    TestServer.Response ok =
        s.upload(
            "/v1/whet/files/validate",
            "ok.jsonl",
            DATA.getBytes(java.nio.charset.StandardCharsets.UTF_8),
            null,
            s.key);
    assertTrue(ok.json().get("valid").asBoolean(), ok.body());
    assertEquals(12, ok.json().get("examples").asInt());
    assertEquals("classify", ok.json().get("task").asText());
    assertEquals(6, ok.json().get("stats").get("labels").get("a").asInt());

    assertError(
        s.upload("/v1/files", "x.jsonl", DATA.getBytes(), "assistants", s.key),
        400,
        "invalid_request_error");
    assertError(
        s.upload("/v1/files", "x.jsonl", DATA.getBytes(), null, s.key),
        400,
        "invalid_request_error");
  }

  @Test
  void oversizeUploadsAreRefusedAndLeaveNothingBehind() throws IOException {
    byte[] big = new byte[256 * 1024];
    java.util.Arrays.fill(big, (byte) 'x');
    TestServer.Response r = s.upload("/v1/files", "big.jsonl", big, "fine-tune", s.key);
    assertEquals(413, r.status(), r.body());
    assertEquals("file_too_large", r.json().get("error").get("code").asText());
    // Under the Content-Length check but over the limit once streamed.
    byte[] over = new byte[5000];
    java.util.Arrays.fill(over, (byte) 'x');
    r = s.upload("/v1/files", "over.jsonl", over, "fine-tune", s.key);
    assertEquals(413, r.status(), r.body());
    try (Stream<Path> files = Files.list(s.home.resolve("files"))) {
      assertTrue(
          files.noneMatch(p -> p.getFileName().toString().startsWith(".upload-")),
          "no temporary upload is left");
    }
  }

  @Test
  void uploadNamesNeverBecomePaths() throws IOException {
    TestServer.Response r = s.uploadText("../../evil.jsonl", DATA);
    assertEquals(200, r.status(), r.body());
    assertEquals("evil.jsonl", r.json().get("filename").asText());
    assertTrue(Files.notExists(s.home.resolve("evil.jsonl")));
    assertTrue(Files.notExists(dir.resolve("evil.jsonl")));
    try (Stream<Path> files = Files.list(s.home.resolve("files"))) {
      assertTrue(
          files.allMatch(p -> p.getFileName().toString().matches("[0-9a-f]{64}\\.[a-z]+")),
          "contents are stored by hash");
    }
    String id = r.json().get("id").asText();
    TestServer.Response content = s.get("/v1/files/" + id + "/content", s.key);
    assertEquals(DATA, content.body());
  }

  @Test
  void filesArePagedWithACursor() {
    ApiKeys.Created k;
    try (ApiKeys keys = ApiKeys.open(s.home, null)) {
      k = keys.create("pager", "paging");
    }
    for (int i = 0; i < 5; i++) {
      assertEquals(
          200,
          s.upload("/v1/files", "f" + i + ".jsonl", DATA.getBytes(), "fine-tune", k.key())
              .status());
    }
    JsonNode page1 = s.get("/v1/files?limit=2", k.key()).json();
    assertEquals(2, page1.get("data").size());
    assertTrue(page1.get("has_more").asBoolean());
    assertEquals("f4.jsonl", page1.get("data").get(0).get("filename").asText(), "newest first");
    String last = page1.get("last_id").asText();
    JsonNode page2 = s.get("/v1/files?limit=2&after=" + last, k.key()).json();
    assertEquals("f2.jsonl", page2.get("data").get(0).get("filename").asText());
    JsonNode page3 =
        s.get("/v1/files?limit=2&after=" + page2.get("last_id").asText(), k.key()).json();
    assertEquals(1, page3.get("data").size());
    assertFalse(page3.get("has_more").asBoolean());
    String id = page3.get("data").get(0).get("id").asText();
    JsonNode deleted = s.delete("/v1/files/" + id, k.key()).json();
    assertTrue(deleted.get("deleted").asBoolean());
    assertEquals(404, s.get("/v1/files/" + id, k.key()).status());
  }
}
