package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.whet.model.Encoder;
import dev.whet.train.PrecisionChoice;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK against the inference endpoints; no request written by hand. */
@Tag("engine")
class OpenAiSdkInferenceTest {
  static InferenceFixture server;
  static InferenceFixture.Models models;
  static OpenAIClient client;

  @BeforeAll
  static void start() throws Exception {
    models = InferenceFixture.Models.get();
    server =
        new InferenceFixture(
            Map.of(
                "minilm-l6", models.minilm,
                "tiny-clf", models.tinyClassifier,
                "stories", models.stories,
                "stories-chat", models.storiesChat),
            InferenceRoutes.Options.DEFAULT);
    client =
        OpenAIOkHttpClient.builder()
            .apiKey("sk-test")
            .baseUrl(server.base + "/v1")
            .maxRetries(0)
            .build();
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  @Test
  void embeddingsInBothEncodingsEqualTheLibrary() {
    List<String> texts = List.of("Fine-tuning as a service.", "Another sentence entirely.");
    float[][] expected;
    // The library at the precision the service chose for this machine (bf16 where faster).
    boolean bf16 = PrecisionChoice.forInference("auto", models.minilm).equals("bf16");
    try (Encoder e = Encoder.load(models.minilm, 0, bf16)) {
      expected = e.embed(texts);
    }
    for (EmbeddingCreateParams.EncodingFormat format :
        List.of(
            EmbeddingCreateParams.EncodingFormat.FLOAT,
            EmbeddingCreateParams.EncodingFormat.BASE64)) {
      CreateEmbeddingResponse r =
          client
              .embeddings()
              .create(
                  EmbeddingCreateParams.builder()
                      .model("minilm-l6")
                      .inputOfArrayOfStrings(texts)
                      .encodingFormat(format)
                      .build());
      assertEquals(2, r.data().size());
      assertEquals("minilm-l6", r.model());
      assertTrue(r.usage().promptTokens() > 5);
      for (int i = 0; i < 2; i++) {
        List<Float> v = r.data().get(i).embedding();
        assertEquals(i, r.data().get(i).index());
        assertEquals(384, v.size());
        for (int j = 0; j < 384; j++) {
          assertEquals(expected[i][j], v.get(j), 1e-5, format + " " + i + "," + j);
        }
      }
    }
    // The SDK's default encoding, whatever it is.
    CreateEmbeddingResponse d =
        client
            .embeddings()
            .create(EmbeddingCreateParams.builder().model("minilm-l6").input(texts.get(0)).build());
    assertEquals(expected[0][0], d.data().get(0).embedding().get(0), 1e-5);
  }

  @Test
  void chatCompletionAndItsStreamAgree() {
    ChatCompletionCreateParams params =
        ChatCompletionCreateParams.builder()
            .model("stories-chat")
            .addUserMessage("Once upon a time")
            .maxCompletionTokens(8)
            .temperature(0.0)
            .build();
    ChatCompletion c = client.chat().completions().create(params);
    String text = c.choices().get(0).message().content().orElseThrow();
    assertTrue(!text.isBlank(), text);
    assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, c.choices().get(0).finishReason());
    assertEquals(8, c.usage().orElseThrow().completionTokens());

    StringBuilder streamed = new StringBuilder();
    String[] finish = {null};
    try (StreamResponse<ChatCompletionChunk> s =
        client.chat().completions().createStreaming(params)) {
      s.stream()
          .forEach(
              chunk ->
                  chunk
                      .choices()
                      .forEach(
                          ch -> {
                            ch.delta().content().ifPresent(streamed::append);
                            ch.finishReason().ifPresent(f -> finish[0] = f.asString());
                          }));
    }
    assertEquals(text, streamed.toString());
    assertEquals("length", finish[0]);
  }

  @Test
  void textCompletion() {
    Completion c =
        client
            .completions()
            .create(
                CompletionCreateParams.builder()
                    .model("stories")
                    .prompt("Once upon a time")
                    .maxTokens(6)
                    .temperature(0.0)
                    .build());
    assertEquals(1, c.choices().size());
    assertTrue(!c.choices().get(0).text().isBlank());
    assertEquals(6, c.usage().orElseThrow().completionTokens());
  }

  @Test
  void errorsReachTheSdkAsItsExceptions() {
    assertThrows(
        NotFoundException.class,
        () ->
            client
                .embeddings()
                .create(EmbeddingCreateParams.builder().model("missing").input("x").build()));
    BadRequestException e =
        assertThrows(
            BadRequestException.class,
            () ->
                client
                    .embeddings()
                    .create(EmbeddingCreateParams.builder().model("stories").input("x").build()));
    assertTrue(e.getMessage().contains("decoder"), e.getMessage());
  }
}
