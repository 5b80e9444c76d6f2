package dev.whet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.engine.Tensors;
import dev.whet.io.Json;
import dev.whet.model.LlamaModel;
import dev.whet.model.Lora;
import dev.whet.model.Weights;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * DPO on a real (tiny, random) decoder with LoRA against an independent plain-PyTorch
 * implementation (src/test/resources/dpo/make_dpo_decoder_fixture.py, float64): the reference
 * log-probabilities (adapters off), the policy's, the loss and its gradient with respect to every
 * adapter matrix.
 */
@Tag("engine")
class DpoTaskTest {
  @Test
  void lossAndAdapterGradientsMatchPlainPyTorch() throws Exception {
    JsonNode f;
    try (InputStream in = getClass().getResourceAsStream("/dpo/dpo_decoder_fixture.json")) {
      f = Json.MAPPER.readTree(in);
    }
    Path dir = Path.of(getClass().getResource("/" + f.get("model").asText()).toURI());
    List<String> targets = new ArrayList<>();
    f.get("targets").forEach(t -> targets.add(t.asText()));
    Lora lora = new Lora(f.get("rank").asInt(), f.get("alpha").asDouble(), 0.0, targets);
    LlamaModel model = LlamaModel.load(dir, lora);
    Map<String, Tensor> params = Weights.parameters(model);
    try (NoGradGuard g = new NoGradGuard()) {
      f.get("adapters")
          .fields()
          .forEachRemaining(
              a -> {
                for (String m : List.of("lora_A", "lora_B")) {
                  params.get(a.getKey() + "." + m + ".weight").copy_(matrix(a.getValue().get(m)));
                }
              });
    }
    List<DpoTask.Pair> pairs = new ArrayList<>();
    for (JsonNode p : f.get("pairs")) {
      pairs.add(
          new DpoTask.Pair(
              new SftEncoding.Example(longs(p.get("chosen_ids")), longs(p.get("chosen_labels"))),
              new SftEncoding.Example(
                  longs(p.get("rejected_ids")), longs(p.get("rejected_labels")))));
    }
    DpoTask task = new DpoTask(model, lora, dir, pairs, null, 0, f.get("beta").asDouble(), false);
    // The reference was taken with the adapters off; the policy has them on.
    double[][] policy = DpoTask.logProbs(model, pairs, 0, false);
    for (int i = 0; i < pairs.size(); i++) {
      for (int k = 0; k < 2; k++) {
        assertEquals(
            f.get("policy_log_probs").get(i).get(k).asDouble(), policy[i][k], 2e-4, "policy");
      }
    }
    model.train(true);
    Tensor loss = task.loss(new int[] {0, 1, 2});
    assertEquals(f.get("loss").asDouble(), loss.item_double(), 1e-5);
    loss.backward();
    double worst = 0;
    for (var a : iterable(f.get("gradients"))) {
      for (String m : List.of("lora_A", "lora_B")) {
        float[] got = Tensors.toFloats(params.get(a.getKey() + "." + m + ".weight").grad());
        JsonNode want = a.getValue().get(m);
        int cols = want.get(0).size();
        for (int i = 0; i < got.length; i++) {
          double w = want.get(i / cols).get(i % cols).asDouble();
          worst = Math.max(worst, Math.abs(w - got[i]));
        }
      }
    }
    System.out.println("DPO adapter gradients: max |difference| = " + worst);
    assertEquals(0, worst, 1e-5, "adapter gradient");
    // The step's logged rewards are the fixture's, averaged over the pairs.
    double beta = f.get("beta").asDouble();
    double chosen = 0;
    double rejected = 0;
    double right = 0;
    for (int i = 0; i < pairs.size(); i++) {
      JsonNode pol = f.get("policy_log_probs").get(i);
      JsonNode ref = f.get("reference_log_probs").get(i);
      double c = beta * (pol.get(0).asDouble() - ref.get(0).asDouble());
      double r = beta * (pol.get(1).asDouble() - ref.get(1).asDouble());
      chosen += c / pairs.size();
      rejected += r / pairs.size();
      right += c > r ? 1.0 / pairs.size() : 0;
    }
    Map<String, Double> step = task.stepMetrics();
    assertEquals(chosen, step.get("chosen_reward"), 1e-5);
    assertEquals(rejected, step.get("rejected_reward"), 1e-5);
    assertEquals(chosen - rejected, step.get("reward_margin"), 1e-5);
    assertEquals(right, step.get("reward_accuracy"), 1e-6);
    assertEquals(Map.of(), task.stepMetrics(), "started over: no pairs since");
  }

  private static Iterable<Map.Entry<String, JsonNode>> iterable(JsonNode n) {
    return n::fields;
  }

  private static long[] longs(JsonNode a) {
    long[] out = new long[a.size()];
    for (int i = 0; i < out.length; i++) out[i] = a.get(i).asLong();
    return out;
  }

  private static Tensor matrix(JsonNode rows) {
    int r = rows.size();
    int c = rows.get(0).size();
    float[] v = new float[r * c];
    for (int i = 0; i < r; i++)
      for (int j = 0; j < c; j++) v[i * c + j] = (float) rows.get(i).get(j).asDouble();
    return Tensors.fromFloats(v, r, c);
  }
}
