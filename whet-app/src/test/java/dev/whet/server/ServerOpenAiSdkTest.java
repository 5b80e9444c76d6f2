package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FileObject;
import com.openai.models.files.FilePurpose;
import com.openai.models.finetuning.jobs.FineTuningJob;
import com.openai.models.finetuning.jobs.FineTuningJobEvent;
import com.openai.models.finetuning.jobs.JobCreateParams;
import com.openai.models.finetuning.jobs.checkpoints.FineTuningJobCheckpoint;
import com.openai.models.finetuning.methods.SupervisedHyperparameters;
import com.openai.models.finetuning.methods.SupervisedMethod;
import com.openai.models.models.Model;
import dev.whet.model.TinyBert;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official OpenAI Java SDK against a running Whet server, every request shaped by the SDK:
 * upload a file, create a job, poll until it succeeds, list its events and checkpoints, list the
 * models, and embed with a base model.
 */
@Tag("engine")
class ServerOpenAiSdkTest {
  @TempDir static Path dir;
  static WhetServer server;
  static OpenAIClient client;
  static String key;

  @BeforeAll
  static void start() throws Exception {
    Path home = dir.resolve("home");
    System.setProperty("whet.home", home.toString());
    TinyBert.create(home.resolve("models").resolve("tiny"), 5);
    try (ApiKeys keys = ApiKeys.open(home, null)) {
      key = keys.create("sdk", "sdk-project").key();
    }
    server =
        WhetServer.builder()
            .home(home)
            .port(0)
            .trainThreads(1)
            .routesWithModels(models -> new InferenceRoutes(models))
            .start();
    client =
        OpenAIOkHttpClient.builder().apiKey(key).baseUrl(server.apiBase()).maxRetries(0).build();
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
    System.clearProperty("whet.home");
  }

  @Test
  void uploadTrainAndUseTheModelWithTheSdk() throws Exception {
    List<String> lines;
    try (InputStream in = TinyBert.class.getResourceAsStream("/data/sst2/dev-200.jsonl")) {
      lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
    Path train = Files.write(dir.resolve("train.jsonl"), lines.subList(0, 48));
    FileObject file =
        client
            .files()
            .create(FileCreateParams.builder().file(train).purpose(FilePurpose.FINE_TUNE).build());
    assertEquals("train.jsonl", file.filename());
    assertEquals(Files.size(train), file.bytes());
    assertEquals(file.id(), client.files().retrieve(file.id()).id());

    FineTuningJob created =
        client
            .fineTuning()
            .jobs()
            .create(
                JobCreateParams.builder()
                    .model("tiny")
                    .trainingFile(file.id())
                    .suffix("sdk")
                    .seed(11L)
                    .method(
                        JobCreateParams.Method.builder()
                            .type(JobCreateParams.Method.Type.SUPERVISED)
                            .supervised(
                                SupervisedMethod.builder()
                                    .hyperparameters(
                                        SupervisedHyperparameters.builder()
                                            .nEpochs(2L)
                                            .batchSize(16L)
                                            .learningRateMultiplier(10.0)
                                            .build())
                                    .build())
                            .build())
                    .putAdditionalBodyProperty(
                        "whet", JsonValue.from(Map.of("max_length", 32, "evaluate", false)))
                    .build());
    FineTuningJob job = created;
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (!List.of("succeeded", "failed", "cancelled").contains(job.status().asString())
        && System.nanoTime() < deadline) {
      Thread.sleep(200);
      job = client.fineTuning().jobs().retrieve(created.id());
    }
    assertEquals(FineTuningJob.Status.SUCCEEDED, job.status(), job.toString());
    String model = "ft:tiny:sdk:" + job.id();
    assertEquals(model, job.fineTunedModel().orElseThrow());
    assertTrue(job.trainedTokens().orElseThrow() > 0);
    assertEquals(11L, job.seed());
    assertEquals(1, job.resultFiles().size());

    List<FineTuningJobEvent> events =
        client.fineTuning().jobs().listEvents(job.id()).autoPager().stream().toList();
    assertTrue(
        events.stream().anyMatch(e -> e.message().contains("successfully completed")),
        events.toString());
    assertTrue(
        events.stream()
            .anyMatch(e -> e.type().map(t -> t.asString().equals("metrics")).orElse(false)));

    List<FineTuningJobCheckpoint> checkpoints =
        client.fineTuning().jobs().checkpoints().list(job.id()).items();
    assertTrue(!checkpoints.isEmpty());
    assertEquals(6, checkpoints.get(0).stepNumber(), "48 / 16 × 2 epochs, newest first");
    assertTrue(checkpoints.get(0).metrics().trainLoss().isPresent());

    List<String> models = client.models().list().items().stream().map(Model::id).toList();
    assertTrue(models.contains(model) && models.contains("tiny"), models.toString());
    assertEquals(model, client.models().retrieve(model).id());

    CreateEmbeddingResponse e =
        client
            .embeddings()
            .create(
                EmbeddingCreateParams.builder()
                    .model("tiny")
                    .inputOfArrayOfStrings(List.of("a sentence", "another one"))
                    .build());
    assertEquals(2, e.data().size());
    assertEquals(32, e.data().get(0).embedding().size(), "the tiny model is 32 wide");

    assertThrows(NotFoundException.class, () -> client.fineTuning().jobs().retrieve("ftjob-nope"));
    assertThrows(
        BadRequestException.class,
        () ->
            client
                .fineTuning()
                .jobs()
                .create(JobCreateParams.builder().model("tiny").trainingFile("").build()));
    OpenAIClient stranger =
        OpenAIOkHttpClient.builder()
            .apiKey("whet-wrong")
            .baseUrl(server.apiBase())
            .maxRetries(0)
            .build();
    try {
      assertThrows(UnauthorizedException.class, () -> stranger.models().list());
    } finally {
      stranger.close();
    }
  }
}
