package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.infer.GenerationOptions;
import dev.whet.infer.Generator;
import dev.whet.infer.LanguageModel;
import dev.whet.io.ChatTemplate;
import dev.whet.model.Encoder;
import dev.whet.train.PrecisionChoice;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Each inference endpoint at the JSON level: shapes, values against the library, and errors. */
@Tag("engine")
class InferenceRoutesTest {
  static InferenceFixture server;
  static InferenceFixture.Models models;

  @BeforeAll
  static void start() throws Exception {
    models = InferenceFixture.Models.get();
    server =
        new InferenceFixture(
            Map.of(
                "minilm-l6", models.minilm,
                "tiny-clf", models.tinyClassifier,
                "tiny-multi", models.tinyMultiLabel,
                "tiny-tagger", models.tinyTagger,
                "stories", models.stories,
                "stories-chat", models.storiesChat),
            new InferenceRoutes.Options(4, 32, Duration.ofMillis(2), 4096, 8));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static final List<String> TEXTS =
      List.of("The service answers in OpenAI's shapes.", "A cat sat on the mat.", "Hello!");

  @Test
  void embeddingsEqualTheLibraryInOpenAisShape() throws Exception {
    InferenceFixture.Answer a =
        server.post("/v1/embeddings", Map.of("model", "minilm-l6", "input", TEXTS));
    assertEquals(200, a.status(), a.body());
    assertTrue(a.contentType().startsWith("application/json"), a.contentType());
    JsonNode r = a.json();
    assertEquals("list", r.get("object").asText());
    assertEquals("minilm-l6", r.get("model").asText());
    float[][] expected;
    // The library at the precision the service chose for this machine (bf16 where faster).
    boolean bf16 = PrecisionChoice.forInference("auto", models.minilm).equals("bf16");
    try (Encoder e = Encoder.load(models.minilm, 0, bf16)) {
      expected = e.embed(TEXTS);
    }
    assertEquals(3, r.get("data").size());
    for (int i = 0; i < 3; i++) {
      JsonNode d = r.get("data").get(i);
      assertEquals("embedding", d.get("object").asText());
      assertEquals(i, d.get("index").asInt());
      assertEquals(384, d.get("embedding").size());
      for (int j = 0; j < 384; j++) {
        assertEquals(expected[i][j], d.get("embedding").get(j).floatValue(), 1e-5);
      }
    }
    int tokens = r.get("usage").get("prompt_tokens").asInt();
    assertTrue(tokens > 10, r.get("usage").toString());
    assertEquals(tokens, r.get("usage").get("total_tokens").asInt());
  }

  /**
   * Issue 16, item 10: a 512-input embeddings request (64 batches of 8 here) does not hold a
   * one-input request back until it is done: the small one runs between two of its chunks.
   */
  @Test
  void aLargeEmbeddingsRequestDoesNotHoldASmallOneBack() throws Exception {
    try (InferenceFixture server =
        new InferenceFixture(
            Map.of("minilm-l6", models.minilm),
            new InferenceRoutes.Options(1, 8, Duration.ofMillis(2), 4096, 512))) {
      largeAndSmall(server);
    }
  }

  private static void largeAndSmall(InferenceFixture server) throws Exception {
    // Load the model first, so both requests below meet a running batcher.
    assertEquals(
        200, server.post("/v1/embeddings", Map.of("model", "minilm-l6", "input", "warm")).status());
    List<String> many = new java.util.ArrayList<>();
    for (int i = 0; i < 512; i++) {
      many.add("Request number " + i + " asks about a card that has not arrived yet.");
    }
    long largeStart = System.nanoTime();
    java.util.concurrent.CompletableFuture<Long> large =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> {
              try {
                InferenceFixture.Answer a =
                    server.post("/v1/embeddings", Map.of("model", "minilm-l6", "input", many));
                assertEquals(200, a.status(), a.body());
                return System.nanoTime();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    Thread.sleep(200); // the large request is being computed
    long smallStart = System.nanoTime();
    InferenceFixture.Answer small =
        server.post("/v1/embeddings", Map.of("model", "minilm-l6", "input", "Hello!"));
    double smallMs = (System.nanoTime() - smallStart) / 1e6;
    assertEquals(200, small.status(), small.body());
    double largeMs = (large.get(120, java.util.concurrent.TimeUnit.SECONDS) - largeStart) / 1e6;
    System.out.printf(
        "large request %.0f ms, one-input request during it %.0f ms%n", largeMs, smallMs);
    // Held back until the large one was done, it took most of the large one's time.
    assertTrue(
        smallMs < largeMs / 4,
        "the one-input request took " + smallMs + " ms during a " + largeMs + " ms request");
  }

  @Test
  void base64EmbeddingsAreTheLittleEndianFloatsOfTheFloatOnes() throws Exception {
    JsonNode floats =
        server.post("/v1/embeddings", Map.of("model", "minilm-l6", "input", "Hello!")).json();
    InferenceFixture.Answer a =
        server.post(
            "/v1/embeddings",
            Map.of("model", "minilm-l6", "input", "Hello!", "encoding_format", "base64"));
    assertEquals(200, a.status(), a.body());
    byte[] bytes =
        Base64.getDecoder().decode(a.json().get("data").get(0).get("embedding").asText());
    FloatBuffer fb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    assertEquals(384, fb.remaining());
    JsonNode expected = floats.get("data").get(0).get("embedding");
    for (int j = 0; j < 384; j++) {
      assertEquals(expected.get(j).floatValue(), fb.get(j));
    }
  }

  @Test
  void aFineTunedClassifierAlsoEmbeds() throws Exception {
    InferenceFixture.Answer a =
        server.post("/v1/embeddings", Map.of("model", "tiny-clf", "input", TEXTS));
    assertEquals(200, a.status(), a.body());
    JsonNode e = a.json().get("data").get(0).get("embedding");
    assertEquals(32, e.size());
    double norm = 0;
    for (JsonNode x : e) {
      norm += x.asDouble() * x.asDouble();
    }
    assertEquals(1.0, norm, 1e-4, "normalised");
  }

  @Test
  void classifyAnswersALabelAndProbabilitiesPerInput() throws Exception {
    InferenceFixture.Answer a =
        server.post("/v1/whet/classify", Map.of("model", "tiny-clf", "input", TEXTS));
    assertEquals(200, a.status(), a.body());
    JsonNode r = a.json();
    assertEquals("list", r.get("object").asText());
    assertEquals("tiny-clf", r.get("model").asText());
    assertEquals(3, r.get("data").size());
    for (int i = 0; i < 3; i++) {
      JsonNode c = r.get("data").get(i);
      assertEquals("classification", c.get("object").asText());
      assertEquals(i, c.get("index").asInt());
      JsonNode probs = c.get("probs");
      double neg = probs.get("neg").asDouble();
      double pos = probs.get("pos").asDouble();
      assertEquals(1.0, neg + pos, 1e-5);
      assertEquals(neg >= pos ? "neg" : "pos", c.get("label").asText());
    }
    assertTrue(r.get("usage").get("prompt_tokens").asInt() > 10);

    JsonNode single =
        server.post("/v1/whet/classify", Map.of("model", "tiny-clf", "input", TEXTS.get(1))).json();
    assertEquals(
        r.get("data").get(1).get("probs").get("pos").asDouble(),
        single.get("data").get(0).get("probs").get("pos").asDouble(),
        1e-5,
        "the same text alone and in a batch");
  }

  @Test
  void entitiesAreTheLibrarysSpansWithOffsetsIntoEachInput() throws Exception {
    List<String> texts =
        List.of("Taylor Swift sang in New York 😀 yesterday.", "Paris, Texas", "@paul #wow ok");
    InferenceFixture.Answer a =
        server.post("/v1/whet/entities", Map.of("model", "tiny-tagger", "input", texts));
    assertEquals(200, a.status(), a.body());
    JsonNode r = a.json();
    assertEquals("list", r.get("object").asText());
    assertEquals(3, r.get("data").size());
    try (dev.whet.model.ClassifierModel m =
        dev.whet.model.ClassifierModel.load(models.tinyTagger)) {
      List<dev.whet.model.ClassifierModel.Tagged> want = m.tag(texts, null);
      for (int i = 0; i < texts.size(); i++) {
        JsonNode item = r.get("data").get(i);
        assertEquals("entities", item.get("object").asText());
        assertEquals(i, item.get("index").asInt());
        JsonNode got = item.get("entities");
        assertEquals(want.get(i).entities().size(), got.size(), texts.get(i));
        for (int e = 0; e < got.size(); e++) {
          var span = want.get(i).entities().get(e);
          JsonNode g = got.get(e);
          assertEquals(span.type(), g.get("type").asText());
          assertEquals(span.start(), g.get("start").asInt());
          assertEquals(span.end(), g.get("end").asInt());
          assertEquals(texts.get(i).substring(span.start(), span.end()), g.get("text").asText());
          assertEquals(span.score(), g.get("score").asDouble(), 1e-5);
        }
      }
    }
    assertTrue(r.get("usage").get("prompt_tokens").asInt() > 5);
    // A classifier is not a tagger, and the error says which endpoint serves it.
    InferenceFixture.Answer wrong =
        server.post("/v1/whet/entities", Map.of("model", "tiny-clf", "input", texts));
    assertEquals(400, wrong.status());
    assertTrue(wrong.body().contains("/v1/whet/classify"), wrong.body());
  }

  @Test
  void multiLabelModelsAnswerTheListOfLabelsAtOrAboveOneHalf() throws Exception {
    JsonNode c =
        server
            .post("/v1/whet/classify", Map.of("model", "tiny-multi", "input", List.of("x y z")))
            .json()
            .get("data")
            .get(0);
    assertTrue(c.get("label").isArray(), c.toString());
    List<String> on = new ArrayList<>();
    c.get("probs")
        .fields()
        .forEachRemaining(
            e -> {
              if (e.getValue().asDouble() >= 0.5) {
                on.add(e.getKey());
              }
            });
    List<String> labels = new ArrayList<>();
    c.get("label").forEach(l -> labels.add(l.asText()));
    assertEquals(on, labels);
    assertEquals(3, c.get("probs").size());
  }

  @Test
  void errorsAreOpenAiErrorObjects() throws Exception {
    assertError(
        server.post("/v1/embeddings", Map.of("model", "nope", "input", "x")), 404, "not_found");
    assertError(
        server.post("/v1/embeddings", Map.of("model", "stories", "input", "x")),
        400,
        "model_not_supported");
    assertError(
        server.post("/v1/whet/classify", Map.of("model", "minilm-l6", "input", "x")),
        400,
        "model_not_supported");
    assertError(
        server.post(
            "/v1/chat/completions",
            Map.of(
                "model",
                "minilm-l6",
                "messages",
                List.of(Map.of("role", "user", "content", "hi")))),
        400,
        "model_not_supported");
    assertError(
        server.post("/v1/completions", Map.of("model", "tiny-clf", "prompt", "x")),
        400,
        "model_not_supported");
    JsonNode e =
        assertError(
            server.post("/v1/embeddings", Map.of("model", "minilm-l6", "input", List.of())),
            400,
            null);
    assertEquals("input", e.get("param").asText());
    assertError(
        server.post("/v1/embeddings", Map.of("model", "minilm-l6", "input", List.of("a", ""))),
        400,
        null);
    e =
        assertError(
            server.post(
                "/v1/embeddings",
                Map.of(
                    "model",
                    "minilm-l6",
                    "input",
                    List.of("1", "2", "3", "4", "5", "6", "7", "8", "9"))),
            400,
            null);
    assertTrue(e.get("message").asText().contains("at most 8"), e.toString());
    assertError(server.post("/v1/embeddings", Map.of("model", "minilm-l6", "input", 5)), 400, null);
    assertError(server.post("/v1/embeddings", Map.of("input", "x")), 400, null);
    assertError(server.post("/v1/embeddings", "{\"model\": \"minilm-l6\", \"input\": "), 400, null);
    assertError(server.post("/v1/embeddings", "[1, 2]"), 400, null);
    assertError(
        server.post(
            "/v1/embeddings",
            Map.of("model", "minilm-l6", "input", "x", "encoding_format", "int8")),
        400,
        null);
    assertError(
        server.post(
            "/v1/embeddings", Map.of("model", "minilm-l6", "input", "x", "dimensions", 128)),
        400,
        null);
    assertError(
        server.post(
            "/v1/chat/completions",
            Map.of(
                "model", "stories", "messages", List.of(Map.of("role", "user", "content", "hi")))),
        400,
        "model_not_supported");
    assertError(
        server.post("/v1/chat/completions", Map.of("model", "stories-chat", "messages", List.of())),
        400,
        null);
    assertError(
        server.post(
            "/v1/chat/completions",
            Map.of(
                "model",
                "stories-chat",
                "n",
                2,
                "messages",
                List.of(Map.of("role", "user", "content", "hi")))),
        400,
        null);
    assertError(
        server.post(
            "/v1/completions", Map.of("model", "stories", "prompt", "x", "temperature", "hot")),
        400,
        null);
  }

  private static JsonNode assertError(InferenceFixture.Answer a, int status, String code) {
    assertEquals(status, a.status(), a.body());
    JsonNode e = a.json().get("error");
    assertTrue(e != null && e.get("message").isTextual(), a.body());
    assertEquals("invalid_request_error", e.get("type").asText(), a.body());
    assertTrue(e.has("param") && e.has("code"), a.body());
    if (code != null) {
      assertEquals(code, e.get("code").asText(), a.body());
    }
    assertFalse(a.body().contains("at dev.whet"), "no stack trace: " + a.body());
    return e;
  }

  private static Generator.Completion direct(
      java.util.function.Function<LanguageModel, long[]> p, GenerationOptions o) {
    try (LanguageModel lm = LanguageModel.load(models.storiesChat)) {
      return lm.generator().generate(p.apply(lm), o, null);
    }
  }

  @Test
  void chatCompletionRendersTheTemplateAndMatchesTheGenerator() throws Exception {
    InferenceFixture.Answer a =
        server.post(
            "/v1/chat/completions",
            Map.of(
                "model",
                "stories-chat",
                "messages",
                List.of(Map.of("role", "user", "content", "Once upon a time")),
                "max_tokens",
                8,
                "temperature",
                0));
    assertEquals(200, a.status(), a.body());
    JsonNode r = a.json();
    assertEquals("chat.completion", r.get("object").asText());
    assertTrue(r.get("id").asText().startsWith("chatcmpl-"));
    assertEquals("stories-chat", r.get("model").asText());
    JsonNode choice = r.get("choices").get(0);
    assertEquals("assistant", choice.get("message").get("role").asText());
    assertEquals("length", choice.get("finish_reason").asText());
    Generator.Completion expected =
        direct(
            lm -> lm.chatPrompt(List.of(new ChatTemplate.Message("user", "Once upon a time"))),
            GenerationOptions.greedy(8));
    assertEquals(expected.text(), choice.get("message").get("content").asText());
    JsonNode u = r.get("usage");
    assertEquals(8, u.get("completion_tokens").asInt());
    assertEquals(expected.promptTokens(), u.get("prompt_tokens").asInt());
    assertEquals(expected.promptTokens() + 8, u.get("total_tokens").asInt());
  }

  @Test
  void completionsStopAtAStopStringWithFinishReasonStop() throws Exception {
    InferenceFixture.Answer free =
        server.post(
            "/v1/completions",
            Map.of(
                "model",
                "stories",
                "prompt",
                "Once upon a time",
                "max_tokens",
                20,
                "temperature",
                0));
    assertEquals(200, free.status(), free.body());
    JsonNode r = free.json();
    assertEquals("text_completion", r.get("object").asText());
    String text = r.get("choices").get(0).get("text").asText();
    // Stop at the second word of the free-running text: the answer is cut before it.
    String[] words = text.trim().split(" ");
    String stop = words[Math.min(2, words.length - 1)];
    JsonNode stopped =
        server
            .post(
                "/v1/completions",
                Map.of(
                    "model",
                    "stories",
                    "prompt",
                    "Once upon a time",
                    "max_tokens",
                    20,
                    "temperature",
                    0,
                    "stop",
                    List.of(stop)))
            .json();
    JsonNode c = stopped.get("choices").get(0);
    assertEquals("stop", c.get("finish_reason").asText());
    assertEquals(text.substring(0, text.indexOf(stop)), c.get("text").asText());
  }

  @Test
  void seededSamplingIsReproducible() throws Exception {
    Map<String, Object> req =
        Map.of(
            "model",
            "stories",
            "prompt",
            "Once upon a time",
            "max_tokens",
            12,
            "temperature",
            0.9,
            "top_p",
            0.9,
            "seed",
            1234);
    String a =
        server.post("/v1/completions", req).json().get("choices").get(0).get("text").asText();
    String b =
        server.post("/v1/completions", req).json().get("choices").get(0).get("text").asText();
    assertEquals(a, b);
  }

  @Test
  void streamingChatSendsChunksThatAddUpToTheAnswerThenDone() throws Exception {
    Map<String, Object> req =
        Map.of(
            "model",
            "stories-chat",
            "messages",
            List.of(Map.of("role", "user", "content", "Once upon a time")),
            "max_tokens",
            10,
            "temperature",
            0,
            "stream",
            true,
            "stream_options",
            Map.of("include_usage", true));
    InferenceFixture.Answer a = server.post("/v1/chat/completions", req);
    assertEquals(200, a.status(), a.body());
    assertTrue(a.contentType().startsWith("text/event-stream"), a.contentType());
    List<String> events = new ArrayList<>();
    for (String block : a.body().split("\n\n")) {
      assertTrue(block.startsWith("data: "), block);
      events.add(block.substring(6));
    }
    assertEquals("[DONE]", events.get(events.size() - 1));
    StringBuilder text = new StringBuilder();
    String finish = null;
    JsonNode usage = null;
    for (String ev : events.subList(0, events.size() - 1)) {
      JsonNode c = InferenceFixture.JSON.readTree(ev);
      assertEquals("chat.completion.chunk", c.get("object").asText());
      if (c.get("choices").isEmpty()) {
        usage = c.get("usage");
        continue;
      }
      JsonNode choice = c.get("choices").get(0);
      text.append(choice.get("delta").path("content").asText(""));
      if (!choice.get("finish_reason").isNull()) {
        finish = choice.get("finish_reason").asText();
      }
    }
    assertTrue(events.get(0).contains("\"role\":\"assistant\""), events.get(0));
    Map<String, Object> plain = new java.util.HashMap<>(req);
    plain.remove("stream");
    plain.remove("stream_options");
    JsonNode whole = server.post("/v1/chat/completions", plain).json();
    assertEquals(
        whole.get("choices").get(0).get("message").get("content").asText(), text.toString());
    assertEquals("length", finish);
    assertEquals(10, usage.get("completion_tokens").asInt());
  }

  @Test
  void concurrentGenerationsOnOneModelAllSucceed() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<InferenceFixture.Answer>> answers = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        answers.add(
            pool.submit(
                () ->
                    server.post(
                        "/v1/completions",
                        Map.of(
                            "model",
                            "stories",
                            "prompt",
                            "Once upon a time",
                            "max_tokens",
                            6,
                            "temperature",
                            0))));
      }
      String first = null;
      for (Future<InferenceFixture.Answer> f : answers) {
        InferenceFixture.Answer a = f.get();
        assertEquals(200, a.status(), a.body());
        String text = a.json().get("choices").get(0).get("text").asText();
        first = first == null ? text : first;
        assertEquals(first, text);
      }
    } finally {
      pool.shutdown();
    }
  }
}
