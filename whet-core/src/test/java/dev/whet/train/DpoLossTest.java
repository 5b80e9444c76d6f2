package dev.whet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.engine.Engine;
import dev.whet.engine.Tensors;
import dev.whet.io.Json;
import java.io.InputStream;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The DPO loss, its rewards and its gradient against an independent plain-PyTorch implementation
 * (src/test/resources/dpo/make_dpo_fixture.py, PyTorch 1.13): random policy and reference logits
 * over three chosen and three rejected sequences with prompts of different lengths.
 */
@Tag("engine")
class DpoLossTest {
  @Test
  void lossRewardsAndGradientMatchPlainPyTorch() throws Exception {
    Engine.init();
    JsonNode f;
    try (InputStream in = DpoLossTest.class.getResourceAsStream("/dpo/dpo_fixture.json")) {
      f = Json.MAPPER.readTree(in);
    }
    long[] shape = {
      f.get("shape").get(0).asLong(), f.get("shape").get(1).asLong(), f.get("shape").get(2).asLong()
    };
    Tensor policyChosen = floats(f.get("policy_chosen_logits"), shape).requires_grad_(true);
    Tensor policyRejected = floats(f.get("policy_rejected_logits"), shape).requires_grad_(true);
    Tensor chosenLabels = longs(f.get("chosen_labels"));
    Tensor rejectedLabels = longs(f.get("rejected_labels"));
    DpoLoss dpo =
        DpoLoss.of(
            DpoLoss.sequenceLogProbs(policyChosen, chosenLabels),
            DpoLoss.sequenceLogProbs(policyRejected, rejectedLabels),
            DpoLoss.sequenceLogProbs(floats(f.get("reference_chosen_logits"), shape), chosenLabels),
            DpoLoss.sequenceLogProbs(
                floats(f.get("reference_rejected_logits"), shape), rejectedLabels),
            f.get("beta").asDouble());
    assertEquals(f.get("loss").asDouble(), dpo.loss().item_double(), 1e-6);
    float[] chosen = Tensors.toFloats(dpo.chosenRewards());
    float[] rejected = Tensors.toFloats(dpo.rejectedRewards());
    for (int i = 0; i < chosen.length; i++) {
      assertEquals(f.get("chosen_rewards").get(i).asDouble(), chosen[i], 1e-6);
      assertEquals(f.get("rejected_rewards").get(i).asDouble(), rejected[i], 1e-6);
    }
    assertEquals(f.get("reward_accuracy").asDouble(), dpo.rewardAccuracy(), 1e-6);
    dpo.loss().backward();
    expectClose(f.get("grad_policy_chosen_logits"), Tensors.toFloats(policyChosen.grad()));
    expectClose(f.get("grad_policy_rejected_logits"), Tensors.toFloats(policyRejected.grad()));
  }

  private static void expectClose(JsonNode want, float[] got) {
    assertEquals(want.size(), got.length);
    for (int i = 0; i < got.length; i++) {
      assertEquals(want.get(i).asDouble(), got[i], 1e-5, "gradient element " + i);
    }
  }

  private static Tensor floats(JsonNode values, long[] shape) {
    float[] v = new float[values.size()];
    for (int i = 0; i < v.length; i++) v[i] = (float) values.get(i).asDouble();
    return Tensors.fromFloats(v, shape);
  }

  private static Tensor longs(JsonNode rows) {
    int n = rows.size();
    int t = rows.get(0).size();
    long[] v = new long[n * t];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < t; j++) v[i * t + j] = rows.get(i).get(j).asLong();
    }
    return Tensors.fromLongs(v, n, t);
  }
}
