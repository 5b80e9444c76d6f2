package dev.whet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.model.DecoderFiles;
import dev.whet.model.WeightDiff;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DPO of the real TinyStories-656K on preference pairs, end to end, with LoRA. */
@Tag("engine")
class DpoTrainingTest {
  static JobConfig job(Path out) throws Exception {
    JobConfig j = new JobConfig();
    j.task = "dpo";
    j.base = SftTrainingTest.resource("/models/TinyStories-656K-hf").toString();
    j.train = SftTrainingTest.resource("/data/sft/prefs_train.jsonl").toString();
    j.val = SftTrainingTest.resource("/data/sft/prefs_val.jsonl").toString();
    j.out = out.toString();
    j.batchSize = 8;
    j.epochs = "8";
    j.lr = "5e-3";
    j.maxLength = 64;
    j.seed = 5;
    j.lora.rank = 8;
    j.lora.dropout = 0.0;
    j.sft.generateEval = 4;
    j.sft.maxNewTokens = 16;
    j.precision = "fp32";
    return j;
  }

  @Test
  void dpoRaisesHeldOutPreferenceAccuracyAndLogsRewards(@TempDir Path tmp) throws Exception {
    TrainResult r = Training.start(job(tmp.resolve("run")), List.of());
    ObjectMapper json = new ObjectMapper();
    JsonNode eval = json.readTree(r.runDir().resolve("eval/eval.json").toFile());
    System.out.println("dpo eval: " + eval.get("preference").toPrettyString());
    assertEquals("dpo", eval.get("task").asText());
    JsonNode pref = eval.get("preference");
    assertEquals(8, pref.get("n").asInt());
    // The base finds the short rejected answer more likely; after DPO the chosen one wins.
    assertTrue(
        pref.get("preference_accuracy_after").get("estimate").asDouble()
            > pref.get("preference_accuracy_before").get("estimate").asDouble(),
        pref.toString());
    assertEquals(1.0, pref.get("reward_accuracy").get("estimate").asDouble(), 1e-9);
    assertTrue(pref.get("reward_margin").asDouble() > 0);
    assertTrue(pref.get("loss").asDouble() < Math.log(2), "DPO loss below its start, log 2");
    // The chosen answers became more likely: their held-out loss fell.
    JsonNode held = eval.get("held_out");
    assertTrue(held.get("loss_after").asDouble() < held.get("loss_before").asDouble());
    assertTrue(Files.readString(r.runDir().resolve("eval/report.html")).contains("DPO"));
    // Each step's log carries the rewards; validation the DPO metrics.
    List<String> lines = Files.readAllLines(r.runDir().resolve("metrics.jsonl"));
    JsonNode first = json.readTree(lines.get(0));
    assertTrue(first.has("reward_accuracy") && first.has("chosen_reward"), first.toString());
    JsonNode lastEval = null;
    for (String l : lines) {
      JsonNode n = json.readTree(l);
      if (n.has("eval_reward_accuracy")) lastEval = n;
    }
    assertTrue(lastEval != null && lastEval.get("eval_loss").asDouble() < Math.log(2));
    assertTrue(DecoderFiles.isAdapter(r.modelDir()));
    assertEquals(
        "dpo", json.readTree(r.modelDir().resolve("whet.json").toFile()).get("task").asText());
  }

  @Test
  void resumedDpoRunEndsWithTheSameAdapterAsAnUninterruptedOne(@TempDir Path tmp) throws Exception {
    JobConfig a = job(tmp.resolve("a"));
    a.epochs = "2";
    a.evalEvery = "3";
    a.evaluate = false;
    TrainResult full = Training.start(a, List.of());
    JobConfig b = job(tmp.resolve("b"));
    b.epochs = "2";
    b.evalEvery = "3";
    b.evaluate = false;
    class Crash extends RuntimeException {}
    TrainerListener crash =
        new TrainerListener() {
          @Override
          public void onStep(Step s) {
            if (s.step() == 4) throw new Crash();
          }
        };
    org.junit.jupiter.api.Assertions.assertThrows(
        Crash.class, () -> Training.start(b, List.of(crash)));
    TrainResult resumed = Training.resume(tmp.resolve("b").toString(), List.of());
    double worst =
        WeightDiff.maxAbs(
            full.modelDir().resolve(DecoderFiles.ADAPTER_WEIGHTS),
            resumed.modelDir().resolve(DecoderFiles.ADAPTER_WEIGHTS));
    System.out.println("dpo resume: max |adapter difference| = " + worst);
    assertTrue(worst <= 1e-6, "max abs adapter difference " + worst);
  }

  /**
   * Full fine-tuning with DPO: no adapters to switch off, so the reference is the starting weights'
   * log-probabilities, taken before any step (and again from the base on resume).
   */
  @Test
  void fullDpoLearnsThePreferenceAndSavesAWholeModel(@TempDir Path tmp) throws Exception {
    JobConfig j = job(tmp.resolve("run"));
    j.method = "full";
    j.lr = "2e-3";
    j.epochs = "4";
    j.sft.generateEval = 0;
    j.sft.baselines = false;
    TrainResult r = Training.start(j, List.of());
    JsonNode pref =
        new ObjectMapper()
            .readTree(r.runDir().resolve("eval/eval.json").toFile())
            .get("preference");
    assertTrue(pref.get("reward_accuracy").get("estimate").asDouble() >= 0.75, pref.toString());
    assertTrue(
        pref.get("preference_accuracy_after").get("estimate").asDouble()
            > pref.get("preference_accuracy_before").get("estimate").asDouble(),
        pref.toString());
    assertTrue(Files.isRegularFile(r.modelDir().resolve("model.safetensors")));
    assertTrue(!DecoderFiles.isAdapter(r.modelDir()));
  }
}
