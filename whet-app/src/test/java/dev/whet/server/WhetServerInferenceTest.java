package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
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
  static String otherKey;
  static String previousHome;
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    Path home = InferenceFixture.Models.get().home;
    previousHome = System.getProperty("whet.home");
    System.setProperty("whet.home", home.toString());
    try (ApiKeys keys = ApiKeys.open(home, null)) {
      key = keys.create("inference-test", "p1").key();
      otherKey = keys.create("inference-test-2", "p2").key();
    }
    server =
        WhetServer.builder()
            .home(home)
            .port(0)
            .worker(false)
            // Batches of 8: a flood of requests makes many batches to take turns between.
            .routesWithModels(
                models ->
                    new InferenceRoutes(
                        models,
                        new InferenceRoutes.Options(4, 8, Duration.ofMillis(2), 4096, 2048)))
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

  /**
   * Issue 16, item 10: one project floods a model with 40 full batches; another project's single
   * text runs within a batch or two of arriving, not after the flood.
   */
  @Test
  void projectsTakeTurnsAtAModel() throws Exception {
    assertEquals(
        200, post("/embeddings", Map.of("model", "minilm-l6", "input", "warm"), key).statusCode());
    List<String> eight = new java.util.ArrayList<>();
    for (int i = 0; i < 8; i++) {
      eight.add(
          ("Ticket " + i + ": my card has not arrived and the app says it was sent. ").repeat(6));
    }
    List<java.util.concurrent.CompletableFuture<Long>> flood = new java.util.ArrayList<>();
    for (int i = 0; i < 40; i++) {
      flood.add(
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> {
                try {
                  HttpResponse<String> r =
                      post("/embeddings", Map.of("model", "minilm-l6", "input", eight), key);
                  assertEquals(200, r.statusCode(), r.body());
                  return System.nanoTime();
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              },
              java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()));
    }
    Thread.sleep(300); // the flood is queued and being computed
    long sent = System.nanoTime();
    HttpResponse<String> one =
        post("/embeddings", Map.of("model", "minilm-l6", "input", "Hello!"), otherKey);
    long done = System.nanoTime();
    assertEquals(200, one.statusCode(), one.body());
    int during = 0;
    int after = 0;
    for (var f : flood) {
      long t = f.get(120, java.util.concurrent.TimeUnit.SECONDS);
      if (t > sent && t < done) {
        during++;
      } else if (t >= done) {
        after++;
      }
    }
    System.out.printf("flood requests answered while p2's ran: %d; after it: %d%n", during, after);
    assertTrue(after >= 10, "the flood was still queued when p2's request came: " + after);
    // In arrival order every queued flood request would have gone first.
    // Only the batch being computed when it came goes first (and, by timing, perhaps one more).
    assertTrue(during <= 2, during + " flood requests went before p2's one text");
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
