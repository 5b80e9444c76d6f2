package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The inference routes inside the real server, as {@code whet serve} wires them: behind its key
 * filter and model resolver, on virtual request threads.
 */
@Tag("engine")
class WhetServerInferenceTest {
  static WhetServer server;
  static String key;
  static String previousHome;
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    Path home = InferenceFixture.Models.get().home;
    previousHome = System.getProperty("whet.home");
    System.setProperty("whet.home", home.toString());
    try (ApiKeys keys = ApiKeys.open(home, null)) {
      key = keys.create("inference-test", "p1").key();
    }
    server =
        WhetServer.builder()
            .home(home)
            .port(0)
            .worker(false)
            .routesWithModels(models -> new InferenceRoutes(models))
            .start();
  }

  @AfterAll
  static void stop() {
    server.close();
    if (previousHome == null) {
      System.clearProperty("whet.home");
    } else {
      System.setProperty("whet.home", previousHome);
    }
  }

  static HttpResponse<String> post(String path, Object body, String bearer) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(server.apiBase() + path))
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    InferenceFixture.JSON.writeValueAsString(body)));
    if (bearer != null) {
      b.header("Authorization", "Bearer " + bearer);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void embeddingsNeedAKeyAndResolveBuiltInNames() throws Exception {
    Map<String, Object> req = Map.of("model", "minilm-l6", "input", List.of("a", "b"));
    assertEquals(401, post("/embeddings", req, null).statusCode());
    HttpResponse<String> r = post("/embeddings", req, key);
    assertEquals(200, r.statusCode(), r.body());
    JsonNode data = InferenceFixture.JSON.readTree(r.body()).get("data");
    assertEquals(2, data.size());
    assertEquals(384, data.get(1).get("embedding").size());
    HttpResponse<String> missing =
        post("/embeddings", Map.of("model", "ft:minilm-l6:x:ftjob-nope", "input", "a"), key);
    assertEquals(404, missing.statusCode(), missing.body());
  }

  @Test
  void streamingChatOnAVirtualRequestThread() throws Exception {
    HttpResponse<String> r =
        post(
            "/chat/completions",
            Map.of(
                "model",
                "stories-chat",
                "messages",
                List.of(Map.of("role", "user", "content", "Once upon a time")),
                "max_tokens",
                12,
                "temperature",
                0,
                "stream",
                true),
            key);
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.body().endsWith("data: [DONE]\n\n"), r.body());
    assertTrue(r.body().contains("\"finish_reason\":\"length\""), r.body());
  }
}
