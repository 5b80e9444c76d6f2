package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FileObject;
import com.openai.models.files.FilePurpose;
import com.openai.models.finetuning.jobs.FineTuningJob;
import com.openai.models.finetuning.jobs.JobCreateParams;
import com.openai.models.finetuning.methods.DpoHyperparameters;
import com.openai.models.finetuning.methods.DpoMethod;
import dev.whet.eval.GenerationScores;
import dev.whet.infer.GenerationOptions;
import dev.whet.infer.LanguageModel;
import dev.whet.io.ChatTemplate;
import dev.whet.model.DecoderFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Supervised fine-tuning through the service: the real TinyStories-656K (with a minimal chat
 * template) under WHET_HOME/models as the base, the house-style set of the core SFT tests as OpenAI
 * chat-format files, one job created over plain HTTP and one with the OpenAI SDK, and the
 * fine-tuned models used with the SDK's chat and text completions.
 */
@Tag("engine")
class ServerSftTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path DATA = Path.of("../whet-core/src/test/resources/data/sft");
  static final Path STORIES = Path.of("../whet-core/src/test/resources/models/TinyStories-656K-hf");

  @TempDir static Path dir;
  static TestServer server;
  static InferenceRoutes inference;
  static OpenAIClient client;
  static String chatTrain;
  static String chatVal;

  @BeforeAll
  static void start() throws Exception {
    Path home = dir.resolve("home");
    Path base = home.resolve("models").resolve("stories-chat");
    Files.createDirectories(base);
    for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
      Files.copy(STORIES.resolve(f), base.resolve(f));
    }
    // TinyStories has no chat template; a minimal one: the story so far, turns verbatim.
    Files.writeString(
        base.resolve("tokenizer_config.json"),
        "{\"eos_token\": \"<|end_story|>\", \"chat_template\": \"<|start_story|>{% for m in"
            + " messages %}{{ m['content'] }}{% endfor %}\"}");
    chatTrain = chat(Files.readAllLines(DATA.resolve("style_train.jsonl")));
    chatVal = chat(Files.readAllLines(DATA.resolve("style_val.jsonl")));
    server =
        TestServer.start(
            home,
            b ->
                b.trainThreads(1)
                    .routesWithModels(
                        models -> {
                          inference = new InferenceRoutes(models);
                          return inference;
                        }));
    client =
        OpenAIOkHttpClient.builder()
            .apiKey(server.key)
            .baseUrl(server.server.apiBase())
            .maxRetries(0)
            .build();
  }

  @AfterAll
  static void stop() {
    client.close();
    inference.close();
    server.close();
  }

  /** Prompt/completion records as OpenAI's chat fine-tuning format (a system turn on the first). */
  static String chat(List<String> promptCompletion) throws Exception {
    StringBuilder out = new StringBuilder();
    for (String line : promptCompletion) {
      JsonNode r = JSON.readTree(line);
      List<Map<String, String>> messages = new ArrayList<>();
      messages.add(Map.of("role", "user", "content", r.get("prompt").asText()));
      messages.add(Map.of("role", "assistant", "content", r.get("completion").asText()));
      out.append(JSON.writeValueAsString(Map.of("messages", messages))).append('\n');
    }
    return out.toString();
  }

  static JsonNode poll(String jobId) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
    JsonNode job;
    do {
      Thread.sleep(200);
      job = server.get("/v1/fine_tuning/jobs/" + jobId, server.key).json();
    } while (!List.of("succeeded", "failed", "cancelled").contains(job.get("status").asText())
        && System.nanoTime() < deadline);
    return job;
  }

  /** The first held-out prompt and its target answer (an animal the training set never names). */
  static String[] heldOut() throws Exception {
    JsonNode r = JSON.readTree(Files.readAllLines(DATA.resolve("style_val.jsonl")).get(0));
    return new String[] {r.get("prompt").asText(), r.get("completion").asText()};
  }

  static String chat(String model, String prompt, int maxTokens) {
    return client
        .chat()
        .completions()
        .create(
            ChatCompletionCreateParams.builder()
                .model(model)
                .addUserMessage(prompt)
                .maxCompletionTokens(maxTokens)
                .temperature(0.0)
                .build())
        .choices()
        .get(0)
        .message()
        .content()
        .orElseThrow();
  }

  @Test
  void sftJobOverHttpTrainsAModelThatChatsInTheTrainedStyle() throws Exception {
    // The data checks take chat, prompt/completion and alpaca files as SFT data.
    for (String[] file :
        new String[][] {
          {"chat.jsonl", chatTrain, "chat"},
          {"pc.jsonl", Files.readString(DATA.resolve("style_train.jsonl")), "generate"},
          {
            "alpaca.jsonl",
            "{\"instruction\": \"Say hi.\", \"input\": \"\", \"output\": \"Hi.\"}\n",
            "instruct"
          }
        }) {
      JsonNode v =
          server
              .upload(
                  "/v1/whet/files/validate",
                  file[0],
                  file[1].getBytes(java.nio.charset.StandardCharsets.UTF_8),
                  null,
                  server.key)
              .json();
      assertTrue(v.get("valid").asBoolean(), v.toString());
      assertEquals(file[2], v.get("task").asText(), v.toString());
    }
    TestServer.Response up = server.uploadText("chat_train.jsonl", chatTrain);
    assertEquals(200, up.status(), up.body());
    assertEquals("chat", up.json().at("/whet/task").asText());
    String train = up.json().get("id").asText();
    String val = server.uploadText("chat_val.jsonl", chatVal).json().get("id").asText();

    // A classifier task on a decoder base, and a chat file on an encoder base, are refused.
    TestServer.Response wrong =
        server.post(
            "/v1/fine_tuning/jobs",
            "{\"model\": \"stories-chat\", \"training_file\": \""
                + train
                + "\", \"whet\": {\"task\": \"classify\"}}",
            server.key);
    assertEquals(400, wrong.status(), wrong.body());

    ObjectNode body = JSON.createObjectNode();
    body.put("model", "stories-chat");
    body.put("training_file", train);
    body.put("validation_file", val);
    body.put("suffix", "style");
    body.put("seed", 3);
    ObjectNode hp = body.putObject("hyperparameters");
    hp.put("n_epochs", 6);
    hp.put("batch_size", 8);
    hp.put("learning_rate_multiplier", 10); // 10 × LoRA's 5e-4
    body.set(
        "whet",
        JSON.readTree(
            "{\"max_length\": 64, \"precision\": \"fp32\", \"lora\": {\"rank\": 8, \"targets\":"
                + " [\"q\", \"k\", \"v\", \"o\", \"gate\", \"up\", \"down\"]}, \"sft\":"
                + " {\"packing\": true, \"generate_eval\": 2, \"max_new_tokens\": 16}}"));
    TestServer.Response created =
        server.post("/v1/fine_tuning/jobs", JSON.writeValueAsString(body), server.key);
    assertEquals(200, created.status(), created.body());
    String id = created.json().get("id").asText();

    JsonNode job = poll(id);
    assertEquals("succeeded", job.get("status").asText(), job.toString());
    String model = "ft:stories-chat:style:" + id;
    assertEquals(model, job.get("fine_tuned_model").asText());
    assertEquals("sft", job.at("/whet/task").asText());
    assertEquals(5e-3, job.at("/hyperparameters/learning_rate_multiplier").asDouble() * 5e-4, 1e-9);
    JsonNode eval = job.at("/whet/eval");
    assertEquals("sft", eval.get("task").asText(), job.toString());
    assertTrue(
        eval.at("/held_out/loss_after").asDouble() < eval.at("/held_out/loss_before").asDouble(),
        eval.toString());
    assertEquals(2, eval.at("/generation/n").asInt());
    assertTrue(eval.at("/generation/rouge_l_after").isNumber(), eval.toString());

    JsonNode events =
        server
            .get("/v1/fine_tuning/jobs/" + id + "/events?order=asc&limit=1000", server.key)
            .json();
    boolean trainLoss = false;
    boolean validLoss = false;
    for (JsonNode e : events.get("data")) {
      trainLoss |= e.at("/data/train_loss").isNumber();
      validLoss |= e.at("/data/valid_loss").isNumber();
    }
    assertTrue(trainLoss && validLoss, events.toString());

    // The fine-tuned model chats: its answer is what Generator gives on the run's adapter, and
    // closer to the trained style than the base's.
    Path modelDir = Path.of(job.at("/whet/run_dir").asText()).resolve("model");
    assertTrue(DecoderFiles.isAdapter(modelDir));
    String[] held = heldOut();
    String tuned = chat(model, held[0], 20);
    String expected;
    try (LanguageModel lm = LanguageModel.load(modelDir)) {
      long[] ids = lm.chatPrompt(List.of(new ChatTemplate.Message("user", held[0])));
      expected = lm.generator().generate(ids, GenerationOptions.greedy(20), x -> {}).text();
    }
    assertEquals(expected, tuned);
    String base = chat("stories-chat", held[0], 20);
    System.out.println("base: " + base + "\nfine-tuned: " + tuned + "\ntarget: " + held[1]);
    assertTrue(
        GenerationScores.rougeL(tuned, held[1]) > GenerationScores.rougeL(base, held[1]) + 0.2,
        "base '" + base + "', fine-tuned '" + tuned + "', target '" + held[1] + "'");

    assertEquals(
        "decoder",
        server.get("/v1/models/" + model, server.key).json().path("whet").path("kind").asText(),
        "an SFT adapter is served by the chat endpoints");

    // The loop: people rate its answers, the feedback becomes preference pairs, and a DPO job
    // continues from the fine-tuned model itself.
    List<String> feedback = new ArrayList<>();
    for (String line : Files.readAllLines(DATA.resolve("prefs_train.jsonl")).subList(0, 8)) {
      JsonNode pair = JSON.readTree(line);
      ChatCompletion served =
          client
              .chat()
              .completions()
              .create(
                  ChatCompletionCreateParams.builder()
                      .model(model)
                      .addUserMessage(pair.get("prompt").asText())
                      .maxCompletionTokens(6)
                      .temperature(0.0)
                      .build());
      ObjectNode f = JSON.createObjectNode();
      f.put("completion_id", served.id());
      f.put("preferred", pair.get("chosen").asText());
      TestServer.Response r = server.post("/v1/whet/feedback", f.toString(), server.key);
      assertEquals(200, r.status(), r.body());
    }
    String pairs = server.get("/v1/whet/feedback/export?model=" + model, server.key).body();
    assertEquals(8, pairs.lines().count(), pairs);
    String prefs = server.uploadText("feedback.jsonl", pairs).json().get("id").asText();
    TestServer.Response dpo =
        server.post(
            "/v1/fine_tuning/jobs",
            """
            {"model": "%s", "training_file": "%s", "suffix": "loop",
             "method": {"type": "dpo", "dpo": {"hyperparameters": {"n_epochs": 1}}},
             "whet": {"max_length": 64, "precision": "fp32", "evaluate": false}}
            """
                .formatted(model, prefs),
            server.key);
    assertEquals(200, dpo.status(), dpo.body());
    JsonNode loop = poll(dpo.json().get("id").asText());
    assertEquals("succeeded", loop.get("status").asText(), loop.toString());
    String continued = loop.get("fine_tuned_model").asText();
    assertEquals("ft:stories-chat:loop:" + loop.get("id").asText(), continued);
    assertTrue(
        Files.isRegularFile(
            Path.of(loop.at("/whet/run_dir").asText()).resolve("base/model.safetensors")),
        "the SFT adapter merged into the DPO run's base");
    assertFalse(chat(continued, held[0], 4).isEmpty());
    // Deleting the model unloads it from the inference cache; it is then gone for chat too.
    assertTrue(inference.models().loaded().contains(modelDir.toAbsolutePath().normalize()));
    assertEquals(200, server.delete("/v1/models/" + model, server.key).status());
    assertFalse(inference.models().loaded().contains(modelDir.toAbsolutePath().normalize()));
    assertThrows(NotFoundException.class, () -> chat(model, held[0], 4));
  }

  @Test
  void sftJobWithTheSdkThenChatAndCompletionsOnTheFineTunedModel() throws Exception {
    Path trainFile = Files.writeString(dir.resolve("sdk_chat.jsonl"), chatTrain);
    FileObject file =
        client
            .files()
            .create(
                FileCreateParams.builder().file(trainFile).purpose(FilePurpose.FINE_TUNE).build());
    FineTuningJob created =
        client
            .fineTuning()
            .jobs()
            .create(
                JobCreateParams.builder()
                    .model("stories-chat")
                    .trainingFile(file.id())
                    .suffix("sdk")
                    .seed(5L)
                    .hyperparameters(
                        JobCreateParams.Hyperparameters.builder()
                            .nEpochs(4L)
                            .batchSize(8L)
                            .learningRateMultiplier(10.0)
                            .build())
                    .putAdditionalBodyProperty(
                        "whet",
                        JsonValue.from(
                            Map.of(
                                "task",
                                "sft",
                                "max_length",
                                64,
                                "evaluate",
                                false,
                                "precision",
                                "fp32",
                                "lora",
                                Map.of("rank", 8, "alpha", 16),
                                "sft",
                                Map.of("packing", true))))
                    .build());
    FineTuningJob job = created;
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
    while (!List.of("succeeded", "failed", "cancelled").contains(job.status().asString())
        && System.nanoTime() < deadline) {
      Thread.sleep(200);
      job = client.fineTuning().jobs().retrieve(created.id());
    }
    assertEquals(FineTuningJob.Status.SUCCEEDED, job.status(), job.toString());
    String model = job.fineTunedModel().orElseThrow();
    assertEquals("ft:stories-chat:sdk:" + job.id(), model);
    assertTrue(job.trainedTokens().orElseThrow() > 0);

    String[] held = heldOut();
    ChatCompletionCreateParams params =
        ChatCompletionCreateParams.builder()
            .model(model)
            .addUserMessage(held[0])
            .maxCompletionTokens(20)
            .temperature(0.0)
            .build();
    ChatCompletion c = client.chat().completions().create(params);
    assertEquals(model, c.model());
    String text = c.choices().get(0).message().content().orElseThrow();
    StringBuilder streamed = new StringBuilder();
    try (StreamResponse<ChatCompletionChunk> s =
        client.chat().completions().createStreaming(params)) {
      s.stream()
          .forEach(
              chunk ->
                  chunk.choices().forEach(ch -> ch.delta().content().ifPresent(streamed::append)));
    }
    assertEquals(text, streamed.toString());
    String expected;
    Path modelDir = server.server.models().resolve(new Caller("alpha", "k"), model);
    try (LanguageModel lm = LanguageModel.load(modelDir)) {
      long[] ids = lm.chatPrompt(List.of(new ChatTemplate.Message("user", held[0])));
      expected = lm.generator().generate(ids, GenerationOptions.greedy(20), x -> {}).text();
    }
    assertEquals(expected, text);

    // The template renders a user turn verbatim after <|start_story|>: the same as a text prompt.
    Completion done =
        client
            .completions()
            .create(
                CompletionCreateParams.builder()
                    .model(model)
                    .prompt(held[0])
                    .maxTokens(12)
                    .temperature(0.0)
                    .build());
    assertFalse(done.choices().get(0).text().isEmpty());
    assertNull(job.error().orElse(null));
  }

  /** Preference pairs in OpenAI's format: the prompt as a user turn, each answer an assistant's. */
  static String openAiPreferences(List<String> pairs) throws Exception {
    StringBuilder out = new StringBuilder();
    for (String line : pairs) {
      JsonNode r = JSON.readTree(line);
      Map<String, Object> row =
          Map.of(
              "input",
              Map.of(
                  "messages", List.of(Map.of("role", "user", "content", r.get("prompt").asText()))),
              "preferred_output",
              List.of(Map.of("role", "assistant", "content", r.get("chosen").asText())),
              "non_preferred_output",
              List.of(Map.of("role", "assistant", "content", r.get("rejected").asText())));
      out.append(JSON.writeValueAsString(row)).append('\n');
    }
    return out.toString();
  }

  @Test
  void dpoJobWithTheSdkMakesTheModelPreferTheChosenAnswers() throws Exception {
    FileObject[] files = new FileObject[2];
    String[] names = {"prefs_train.jsonl", "prefs_val.jsonl"};
    for (int i = 0; i < 2; i++) {
      Path f =
          Files.writeString(
              dir.resolve("openai_" + names[i]),
              openAiPreferences(Files.readAllLines(DATA.resolve(names[i]))));
      files[i] =
          client
              .files()
              .create(FileCreateParams.builder().file(f).purpose(FilePurpose.FINE_TUNE).build());
    }
    FineTuningJob created =
        client
            .fineTuning()
            .jobs()
            .create(
                JobCreateParams.builder()
                    .model("stories-chat")
                    .trainingFile(files[0].id())
                    .validationFile(files[1].id())
                    .suffix("dpo")
                    .seed(5L)
                    .method(
                        JobCreateParams.Method.builder()
                            .type(JobCreateParams.Method.Type.DPO)
                            .dpo(
                                DpoMethod.builder()
                                    .hyperparameters(
                                        DpoHyperparameters.builder()
                                            .beta(0.1)
                                            .nEpochs(8L)
                                            .batchSize(8L)
                                            .learningRateMultiplier(100.0) // 100 × 5e-5
                                            .build())
                                    .build())
                            .build())
                    .putAdditionalBodyProperty(
                        "whet",
                        JsonValue.from(
                            Map.of(
                                "max_length",
                                64,
                                "precision",
                                "fp32",
                                "lora",
                                Map.of("rank", 8, "dropout", 0.0),
                                "sft",
                                Map.of("generate_eval", 2, "max_new_tokens", 12))))
                    .build());
    JsonNode job = poll(created.id());
    assertEquals("succeeded", job.get("status").asText(), job.toString());
    FineTuningJob done = client.fineTuning().jobs().retrieve(created.id());
    assertEquals(
        JobCreateParams.Method.Type.DPO.asString(), done.method().orElseThrow().type().asString());
    assertEquals(
        0.1,
        done.method()
            .orElseThrow()
            .dpo()
            .orElseThrow()
            .hyperparameters()
            .orElseThrow()
            .beta()
            .orElseThrow()
            .asNumber(),
        1e-12);
    assertEquals("dpo", job.at("/whet/task").asText());
    JsonNode pref = job.at("/whet/eval/preference");
    System.out.println("service dpo: " + pref);
    assertTrue(
        pref.at("/preference_accuracy_after/estimate").asDouble()
            > pref.at("/preference_accuracy_before/estimate").asDouble(),
        pref.toString());
    // Reward statistics reach the job's metrics events.
    JsonNode events =
        server
            .get(
                "/v1/fine_tuning/jobs/" + created.id() + "/events?order=asc&limit=1000", server.key)
            .json();
    boolean rewards = false;
    for (JsonNode e : events.get("data")) {
      rewards |= e.at("/data/train_reward_accuracy").isNumber();
    }
    assertTrue(rewards, events.toString());
    // The tuned model chats like any SFT adapter.
    String model = done.fineTunedModel().orElseThrow();
    assertFalse(chat(model, heldOut()[0], 8).isEmpty());
  }

  @Test
  void feedbackOnServedChatsExportsAsPreferencePairsOnlyToItsProject() throws Exception {
    String prompt = heldOut()[0];
    ChatCompletionCreateParams.Builder ask =
        ChatCompletionCreateParams.builder()
            .model("stories-chat")
            .addUserMessage(prompt)
            .temperature(0.0);
    ChatCompletion longer = client.chat().completions().create(ask.maxCompletionTokens(8).build());
    String shorterId;
    try (StreamResponse<ChatCompletionChunk> s =
        client.chat().completions().createStreaming(ask.maxCompletionTokens(3).build())) {
      shorterId = s.stream().map(ChatCompletionChunk::id).reduce((a, b) -> b).orElseThrow();
    }
    String better = " The horse said hello to Tom. They played together all day.";
    String[] bodies = {
      "{\"completion_id\": \"" + longer.id() + "\", \"preferred\": \"" + better + "\"}",
      "{\"completion_id\": \"" + longer.id() + "\", \"rating\": \"good\"}",
      "{\"completion_id\": \"" + shorterId + "\", \"rating\": -1, \"comment\": \"cut off\"}"
    };
    for (String body : bodies) {
      TestServer.Response r = server.post("/v1/whet/feedback", body, server.key);
      assertEquals(200, r.status(), r.body());
      assertEquals("stories-chat", r.json().get("model").asText());
    }
    // Another project cannot see, rate or export these completions.
    TestServer.Response foreign = server.post("/v1/whet/feedback", bodies[1], server.otherKey);
    assertEquals(404, foreign.status(), foreign.body());
    assertEquals(
        "", server.get("/v1/whet/feedback/export?model=stories-chat", server.otherKey).body());
    TestServer.Response empty =
        server.post(
            "/v1/whet/feedback", "{\"completion_id\": \"" + longer.id() + "\"}", server.key);
    assertEquals(400, empty.status(), empty.body());
    TestServer.Response badRating =
        server.post(
            "/v1/whet/feedback",
            "{\"completion_id\": \"" + longer.id() + "\", \"rating\": 5}",
            server.key);
    assertEquals(400, badRating.status(), badRating.body());

    // The preferred alternative beats the reply; the reply rated good beats the one rated bad.
    String exported = server.get("/v1/whet/feedback/export?model=stories-chat", server.key).body();
    List<String> lines = exported.lines().toList();
    assertEquals(2, lines.size(), exported);
    JsonNode first = JSON.readTree(lines.get(0));
    assertEquals(prompt, first.at("/input/messages/0/content").asText());
    assertEquals(better, first.at("/preferred_output/0/content").asText());
    assertEquals(
        longer.choices().get(0).message().content().orElseThrow(),
        first.at("/non_preferred_output/0/content").asText());
    JsonNode second = JSON.readTree(lines.get(1));
    assertEquals(
        longer.choices().get(0).message().content().orElseThrow(),
        second.at("/preferred_output/0/content").asText());
    // `whet feedback export` writes the same pairs, and Whet reads them as DPO data.
    Path out = dir.resolve("feedback.jsonl");
    assertEquals(
        2,
        dev.whet.server.Feedback.export(dir.resolve("home"), null, "alpha", "stories-chat", out));
    assertEquals(exported, Files.readString(out));
    dev.whet.data.Dataset d = dev.whet.data.Dataset.load(out, dev.whet.data.DataOptions.defaults());
    assertEquals(dev.whet.data.Task.PREFERENCE, d.task());
    assertEquals(2, d.examples().size());
  }
}
