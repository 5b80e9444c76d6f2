package dev.whet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.engine.Tensors;
import dev.whet.infer.LanguageModel;
import dev.whet.io.DType;
import dev.whet.io.Safetensors;
import dev.whet.io.TensorData;
import dev.whet.model.DecoderFiles;
import dev.whet.model.WeightDiff;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Supervised fine-tuning of the real TinyStories-656K on a tiny style set, end to end. */
@Tag("engine")
class SftTrainingTest {
  @TempDir static Path shared;
  static Path base;
  static Path trainFile;
  static Path valFile;

  @BeforeAll
  static void setUp() throws Exception {
    base = resource("/models/TinyStories-656K-hf");
    trainFile = resource("/data/sft/style_train.jsonl");
    valFile = resource("/data/sft/style_val.jsonl");
  }

  static Path resource(String name) throws Exception {
    return Path.of(SftTrainingTest.class.getResource(name).toURI());
  }

  static JobConfig job(Path out) {
    JobConfig j = new JobConfig();
    j.task = "sft";
    j.base = base.toString();
    j.train = trainFile.toString();
    j.val = valFile.toString();
    j.out = out.toString();
    j.batchSize = 8;
    j.epochs = "6";
    j.lr = "5e-3";
    j.warmup = 0.05;
    j.maxLength = 64;
    j.seed = 3;
    j.lora.rank = 8;
    j.lora.dropout = 0.05;
    j.lora.targets = List.of("q", "k", "v", "o", "gate", "up", "down");
    j.sft.generateEval = 8;
    j.sft.maxNewTokens = 20;
    j.precision = "fp32";
    return j;
  }

  @Test
  void loraSftLowersValidationLossAndMovesGenerationsTowardTheTargets(@TempDir Path tmp)
      throws Exception {
    TrainResult r = Training.start(job(tmp.resolve("run")), List.of());
    Path run = r.runDir();
    JsonNode eval = new ObjectMapper().readTree(run.resolve("eval/eval.json").toFile());
    System.out.println("sft eval: " + eval.toPrettyString());
    JsonNode held = eval.get("held_out");
    assertTrue(
        held.get("loss_after").asDouble() < 0.5 * held.get("loss_before").asDouble(),
        "validation loss " + held);
    JsonNode gen = eval.get("generation");
    assertEquals(8, gen.get("n").asInt());
    assertTrue(
        gen.get("rouge_l_after").asDouble() > gen.get("rouge_l_before").asDouble() + 0.3,
        "ROUGE-L " + gen);
    assertTrue(eval.get("forgetting").has("before"));
    // Against prompting the base model: the fine-tune finds the held-out answers far likelier than
    // the base does zero-shot or with four examples (random or nearest) in its prompt.
    java.util.Map<String, JsonNode> systems = new java.util.LinkedHashMap<>();
    eval.get("systems").forEach(x -> systems.put(x.get("name").asText(), x));
    assertEquals(
        List.of("zero_shot", "few_shot_random", "few_shot_retrieved", "fine_tuned"),
        List.copyOf(systems.keySet()));
    for (String b : List.of("zero_shot", "few_shot_random", "few_shot_retrieved")) {
      assertTrue(
          systems.get("fine_tuned").get("loglik").asDouble()
              > systems.get(b).get("loglik").asDouble(),
          b + ": " + eval.get("systems"));
      assertTrue(
          systems.get(b).get("fine_tuned_minus_this").get("low").asDouble() > 0,
          "clearly better than " + b);
    }
    assertTrue(
        systems.get("few_shot_random").get("prompt_tokens").asDouble()
            > 2 * systems.get("zero_shot").get("prompt_tokens").asDouble(),
        "few-shot prompts cost more tokens");
    assertEquals(8, systems.get("fine_tuned").get("generated").asInt());
    assertTrue(systems.get("fine_tuned").get("ms_per_request").asDouble() > 0);
    assertEquals(
        "above", eval.get("headline").get("outcome").asText(), eval.get("verdict").asText());
    assertTrue(
        eval.get("verdict").asText().contains("beats every baseline"),
        eval.get("verdict").asText());
    assertEquals(8, eval.get("examples").size());
    assertEquals(5, eval.get("worst").size());
    assertTrue(Files.isRegularFile(run.resolve("eval/report.html")));
    assertTrue(Files.isRegularFile(run.resolve("eval/predictions.jsonl")));

    // The run's model is an adapter; checkpoints hold only adapter tensors.
    assertTrue(DecoderFiles.isAdapter(r.modelDir()));
    for (Path c : new RunDir(run).checkpoints()) {
      Map<String, ?> saved = Safetensors.read(c.resolve("model.safetensors"));
      assertFalse(saved.isEmpty());
      assertTrue(saved.keySet().stream().allMatch(k -> k.contains(".lora_")), c + ": " + saved);
    }

    // whet export --merged: the merged model's logits equal base + adapter's, and it loads again.
    Path merged = tmp.resolve("merged");
    long[] ids;
    float[] adapterLogits;
    try (LanguageModel lm = LanguageModel.load(LanguageModel.resolve(run.toString()))) {
      ids = lm.prompt("Tom saw a horse in the park.");
      adapterLogits = logits(lm, ids);
      lm.exportMerged(merged);
    }
    for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "whet.json")) {
      assertTrue(Files.isRegularFile(merged.resolve(f)), f);
    }
    try (LanguageModel lm = LanguageModel.load(merged)) {
      float[] mergedLogits = logits(lm, ids);
      double worst = 0;
      double scale = 0;
      for (int i = 0; i < mergedLogits.length; i++) {
        worst = Math.max(worst, Math.abs(mergedLogits[i] - adapterLogits[i]));
        scale = Math.max(scale, Math.abs(adapterLogits[i]));
      }
      System.out.println(
          "merged vs adapter: max |logit difference| = " + worst + ", max |logit| = " + scale);
      // Float32 sums in a different order: 1e-5 on logits of magnitude up to 1, relative beyond.
      assertTrue(worst < 1e-5 * Math.max(1, scale), "max logit difference " + worst);
    }
  }

  /**
   * LoRA in bf16 (where the CPU lacks native bf16 this is emulated, slowly: a tiny model): the
   * frozen base is stored in bf16 during training, the adapters learn and are saved in fp32.
   */
  @Test
  void loraSftInBf16LearnsAndSavesFp32Adapters(@TempDir Path tmp) throws Exception {
    JobConfig j = job(tmp.resolve("run"));
    j.precision = "bf16";
    j.epochs = "4";
    j.sft.generateEval = 0;
    TrainResult r = Training.start(j, List.of());
    JsonNode held =
        new ObjectMapper().readTree(r.runDir().resolve("eval/eval.json").toFile()).get("held_out");
    assertTrue(
        held.get("loss_after").asDouble() < 0.7 * held.get("loss_before").asDouble(),
        "validation loss " + held);
    Map<String, TensorData> adapter =
        Safetensors.read(r.modelDir().resolve("adapter_model.safetensors"));
    assertFalse(adapter.isEmpty());
    for (TensorData t : adapter.values()) {
      assertEquals(DType.F32, t.dtype(), t.name());
    }
  }

  static float[] logits(LanguageModel lm, long[] ids) {
    lm.model().eval();
    try (InferenceMode g = new InferenceMode()) {
      Tensor out = lm.model().forward(Tensors.fromLongs(ids, 1, ids.length));
      return Tensors.toFloats(out);
    }
  }

  @Test
  void resumedSftRunEndsWithTheSameAdapterAsAnUninterruptedOne(@TempDir Path tmp) {
    JobConfig a = job(tmp.resolve("a"));
    a.epochs = "2";
    a.evalEvery = "3";
    a.evaluate = false;
    a.sft.packing = true; // packed rows too: 40 short examples fit a few rows of 64
    TrainResult full = Training.start(a, List.of());

    JobConfig b = job(tmp.resolve("b"));
    b.epochs = "2";
    b.evalEvery = "3";
    b.evaluate = false;
    b.sft.packing = true;
    class Crash extends RuntimeException {}
    TrainerListener crash =
        new TrainerListener() {
          @Override
          public void onStep(Step s) {
            if (s.step() == 4) {
              throw new Crash();
            }
          }
        };
    assertThrows(Crash.class, () -> Training.start(b, List.of(crash)));
    TrainResult resumed = Training.resume(tmp.resolve("b").toString(), List.of());
    assertEquals(full.steps(), resumed.steps());
    double worst =
        WeightDiff.maxAbs(
            full.modelDir().resolve(DecoderFiles.ADAPTER_WEIGHTS),
            resumed.modelDir().resolve(DecoderFiles.ADAPTER_WEIGHTS));
    System.out.println(
        "sft resume: " + full.steps() + " steps, max |adapter difference| = " + worst);
    assertTrue(worst <= 1e-6, "max abs adapter difference " + worst);
  }
}
