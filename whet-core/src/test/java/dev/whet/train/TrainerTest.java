package dev.whet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.WhetException;
import dev.whet.io.Safetensors;
import dev.whet.io.TensorData;
import dev.whet.model.ClassifierModel;
import dev.whet.model.TinyBert;
import dev.whet.model.WeightDiff;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("engine")
class TrainerTest {
  @TempDir static Path shared;
  static Path base;
  static List<String> texts = new ArrayList<>();
  static List<String> labels = new ArrayList<>();
  static final List<String> LABELS = List.of("negative", "positive");

  @BeforeAll
  static void setUp() throws Exception {
    base = TinyBert.create(shared.resolve("tiny-bert"), 1);
    ObjectMapper om = new ObjectMapper();
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(
                TrainerTest.class.getResourceAsStream("/data/sst2/dev-200.jsonl"),
                StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        JsonNode n = om.readTree(line);
        texts.add(n.get("text").asText());
        labels.add(n.get("label").asText());
      }
    }
  }

  static JobConfig job(Path out) {
    JobConfig j = new JobConfig();
    j.base = base.toString();
    j.train = "in-memory";
    j.out = out.toString();
    j.batchSize = 16;
    j.epochs = "2";
    j.lr = "1e-3";
    j.evalEvery = "4";
    j.seed = 7;
    j.keepCheckpoints = 2;
    j.maxLength = 64;
    j.validate();
    return j.resolve(160, r -> "fp32");
  }

  /** Builds the model exactly as a run does: seed, then base weights and a new head. */
  static ClassifierTask task(JobConfig j) {
    torch.manual_seed(j.seed);
    ClassifierModel model =
        ClassifierModel.fromBase(
            base, j.task, LABELS, j.maxLength, j.dropout, j.attentionDropout, null, null, Map.of());
    return new ClassifierTask(model, encode(model, 0, 160), encode(model, 160, 200));
  }

  static Trainer trainer(JobConfig j, RunDir run, List<TrainerListener> listeners) {
    return new Trainer(j.plan(), run, task(j), listeners);
  }

  static EncodedSet encode(ClassifierModel model, int from, int to) {
    int[][] y = new int[to - from][];
    for (int i = from; i < to; i++) {
      y[i - from] = new int[] {LABELS.indexOf(labels.get(i))};
    }
    return EncodedSet.of(model.tokenizer(), texts.subList(from, to), null, y, LABELS.size());
  }

  @Test
  void resumedRunEndsWithTheSameWeightsAsAnUninterruptedOne(@TempDir Path tmp) {
    JobConfig j = job(tmp.resolve("a"));
    RunDir a = RunDir.create(j.out);
    TrainResult full = trainer(j, a, List.of(a.logger())).train(null);
    assertEquals(20, full.steps(), "160 examples / 16 per batch * 2 epochs");

    JobConfig jb = job(tmp.resolve("b"));
    RunDir b = RunDir.create(jb.out);
    class Crash extends RuntimeException {}
    TrainerListener crashAfterStep6 =
        new TrainerListener() {
          @Override
          public void onStep(Step s) {
            if (s.step() == 6) {
              throw new Crash();
            }
          }
        };
    assertThrows(
        Crash.class, () -> trainer(jb, b, List.of(b.logger(), crashAfterStep6)).train(null));
    List<Path> saved = b.checkpoints();
    assertEquals(
        4, RunDir.stepOf(saved.get(saved.size() - 1)), "the last checkpoint before the crash");
    Checkpoint from = Checkpoint.read(saved.get(saved.size() - 1));
    TrainResult resumed = trainer(jb, b, List.of(b.logger())).train(from);

    assertEquals(full.steps(), resumed.steps());
    assertEquals(full.bestStep(), resumed.bestStep());
    double worst =
        WeightDiff.maxAbs(
            a.model().resolve("model.safetensors"), b.model().resolve("model.safetensors"));
    System.out.println("resume: max |weight difference| = " + worst);
    assertTrue(worst <= 1e-6, "max abs weight difference " + worst);
  }

  @Test
  void trainingFitsTheTrainingSetAndWritesTheRunLayout(@TempDir Path tmp) throws Exception {
    // A tiny random encoder cannot learn sentiment from 160 sentences, but it must fit them:
    // the loss on the training set itself has to fall.
    JobConfig j = job(tmp.resolve("run"));
    j.epochs = "8";
    j.lr = "3e-3";
    RunDir run = RunDir.create(j.out);
    List<Map<String, Double>> evals = new ArrayList<>();
    TrainerListener record =
        new TrainerListener() {
          @Override
          public void onEval(long step, Map<String, Double> metrics) {
            evals.add(metrics);
          }
        };
    ClassifierTask task = task(j);
    Trainer t = new Trainer(j.plan(), run, task, List.of(run.logger(), record));
    ClassifierModel encoderOnly =
        ClassifierModel.fromBase(base, "classify", LABELS, 64, 0, 0, null, null, Map.of());
    EncodedSet trainSet = encode(encoderOnly, 0, 160);
    double before = task.evaluate(trainSet, false).get("loss");
    TrainResult r = t.train(null);
    double after = task.evaluate(trainSet, false).get("loss");
    assertTrue(after < 0.8 * before, "training-set loss " + before + " -> " + after);
    assertEquals(20, evals.size(), "80 steps, evaluated every 4");
    assertTrue(Files.isRegularFile(run.metrics()));
    assertTrue(Files.isRegularFile(run.events()));
    assertTrue(run.checkpoints().size() <= 3, "last 2 plus the best");
    for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "whet.json")) {
      assertTrue(Files.isRegularFile(r.modelDir().resolve(f)), f);
    }
    JsonNode config = new ObjectMapper().readTree(r.modelDir().resolve("config.json").toFile());
    assertEquals("BertForSequenceClassification", config.get("architectures").get(0).asText());
    assertEquals("positive", config.get("id2label").get("1").asText());
    assertEquals(0, config.get("label2id").get("negative").asInt());
    assertEquals(
        "mean", config.get("whet_pooling").asText(), "the head's pooling, for other tools");
    assertTrue(
        Safetensors.read(r.modelDir().resolve("model.safetensors"))
            .containsKey("classifier.weight"));
    assertTrue(
        Safetensors.read(r.modelDir().resolve("model.safetensors"))
            .containsKey("bert.encoder.layer.1.output.dense.weight"));

    // The saved model loads again with identical outputs.
    List<String> probe = texts.subList(160, 170);
    float[][] p1;
    float[][] p2;
    try (ClassifierModel saved = ClassifierModel.load(r.modelDir())) {
      p1 = saved.predict(probe, null);
    }
    try (ClassifierModel again = ClassifierModel.load(r.modelDir())) {
      p2 = again.predict(probe, null);
    }
    for (int i = 0; i < p1.length; i++) {
      for (int c = 0; c < p1[i].length; c++) {
        assertEquals(p1[i][c], p2[i][c], 0f);
      }
    }
  }

  @Test
  void divergenceStopsWithAClearMessageAndKeepsTheLastGoodCheckpoint(@TempDir Path tmp) {
    JobConfig j = job(tmp.resolve("run"));
    j.lr = "1e30"; // AdamW steps are about lr in size: LayerNorm variances overflow to inf
    j.warmup = 0;
    j.schedule = "constant";
    j.saveEvery = 1;
    j.evalEvery = "1000";
    RunDir run = RunDir.create(j.out);
    WhetException e =
        assertThrows(WhetException.class, () -> trainer(j, run, List.of(run.logger())).train(null));
    assertTrue(e.getMessage().contains("training diverged at step"), e.getMessage());
    assertTrue(e.getMessage().contains("Lower the learning rate"), e.getMessage());
    assertFalse(Files.exists(run.model()), "no model is written from a diverged run");
    List<Path> saved = run.checkpoints();
    if (!saved.isEmpty()) {
      Path last = saved.get(saved.size() - 1);
      assertTrue(e.getMessage().contains(last.getFileName().toString()), e.getMessage());
      Checkpoint.read(last); // complete and readable
    }
  }

  @Test
  void freezingKeepsTheEmbeddingsAndEarlyLayersAsTheyWere(@TempDir Path tmp) {
    JobConfig j = job(tmp.resolve("run"));
    j.method = "freeze";
    j.freezeLayers = 1;
    j.epochs = "1";
    RunDir run = RunDir.create(j.out);
    Trainer t = trainer(j, run, List.of());
    assertTrue(t.trainableParameters() < t.totalParameters());
    TrainResult r = t.train(null);
    Map<String, TensorData> before = Safetensors.read(base.resolve("model.safetensors"));
    Map<String, TensorData> after = Safetensors.read(r.modelDir().resolve("model.safetensors"));
    for (String frozen :
        List.of(
            "embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight")) {
      assertArrayEquals(
          before.get(frozen).toFloats(), after.get("bert." + frozen).toFloats(), 0f, frozen);
    }
    String trained = "encoder.layer.1.attention.self.query.weight";
    assertFalse(
        java.util.Arrays.equals(
            before.get(trained).toFloats(), after.get("bert." + trained).toFloats()),
        trained + " should have trained");
  }

  @Test
  void loraTrainsAdaptersAndSavesAMergedPlainModel(@TempDir Path tmp) {
    JobConfig j = job(tmp.resolve("run"));
    j.method = "lora";
    j.epochs = "1";
    RunDir run = RunDir.create(j.out);
    torch.manual_seed(j.seed);
    ClassifierModel model =
        ClassifierModel.fromBase(
            base,
            j.task,
            LABELS,
            j.maxLength,
            j.dropout,
            j.attentionDropout,
            null,
            j.adapters(),
            Map.of());
    Trainer t =
        new Trainer(
            j.plan(),
            run,
            new ClassifierTask(model, encode(model, 0, 160), encode(model, 160, 200)),
            List.of());
    // Adapters on q, k, v, o of 2 layers (2 * 4 * (8*32 + 32*8)) plus the head (2*32 + 2).
    assertEquals(2 * 4 * (8 * 32 + 32 * 8) + 2 * 32 + 2, t.trainableParameters());
    TrainResult r = t.train(null);
    Map<String, TensorData> saved = Safetensors.read(r.modelDir().resolve("model.safetensors"));
    assertFalse(saved.keySet().stream().anyMatch(k -> k.contains("lora")), "adapters are merged");
    Map<String, TensorData> before = Safetensors.read(base.resolve("model.safetensors"));
    String q = "encoder.layer.0.attention.self.query.weight";
    assertFalse(
        java.util.Arrays.equals(before.get(q).toFloats(), saved.get("bert." + q).toFloats()));
    String ffn = "encoder.layer.0.intermediate.dense.weight";
    assertArrayEquals(
        before.get(ffn).toFloats(), saved.get("bert." + ffn).toFloats(), 0f, "not a target");
  }
}
