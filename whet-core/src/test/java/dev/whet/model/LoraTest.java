package dev.whet.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.engine.Engine;
import dev.whet.engine.Tensors;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("engine")
class LoraTest {
  static BertModel tiny(Lora lora) {
    Engine.init();
    torch.manual_seed(11);
    return BertModel.of(
        new EncoderConfig("bert", 100, 16, 2, 2, 32, 32, 2, 1e-12, 0.0, 0.0, "gelu", 0, 0), lora);
  }

  static Tensor run(BertModel m) {
    m.eval();
    Tensor ids = Tensors.fromLongs(new long[] {1, 5, 9, 12, 3, 7, 0, 0}, 2, 4);
    Tensor mask = Tensors.fromLongs(new long[] {1, 1, 1, 1, 1, 1, 0, 0}, 2, 4);
    try (NoGradGuard g = new NoGradGuard()) {
      return m.forward(ids, mask, null);
    }
  }

  static double maxDiff(Tensor a, Tensor b) {
    return a.sub(b).abs().max().item_double();
  }

  @Test
  void adaptersStartAsTheIdentityAndFreezeTheirBaseWeights() {
    BertModel plain = tiny(null);
    BertModel adapted = tiny(new Lora(4, 8, 0.0, List.of("q", "v", "up")));
    // Same seed, but adapters draw extra random numbers: copy the base weights across by name.
    Weights.parameters(plain)
        .forEach(
            (n, t) -> {
              try (NoGradGuard g = new NoGradGuard()) {
                Weights.parameters(adapted).get(n).copy_(t);
              }
            });
    assertEquals(0.0, maxDiff(run(plain), run(adapted)), 0.0, "B starts at zero");
    var params = Weights.parameters(adapted);
    assertTrue(params.containsKey("encoder.layer.0.attention.self.query.lora_A.weight"));
    assertTrue(params.containsKey("encoder.layer.1.intermediate.dense.lora_B.weight"));
    assertFalse(
        params.containsKey("encoder.layer.0.attention.self.key.lora_A.weight"),
        "k is not a target");
    assertFalse(params.get("encoder.layer.0.attention.self.query.weight").requires_grad());
    assertTrue(params.get("encoder.layer.0.attention.self.query.lora_A.weight").requires_grad());
  }

  @Test
  void mergingGivesTheSameFunctionAsBasePlusAdapter() {
    BertModel m = tiny(new Lora(4, 8, 0.0, List.of("q", "k", "v", "o", "up", "down")));
    try (NoGradGuard g = new NoGradGuard()) {
      for (var p : Weights.parameters(m).entrySet()) {
        if (p.getKey().contains("lora_B")) {
          p.getValue().copy_(torch.randn(p.getValue().sizes().vec().get()).mul(new Scalar(0.1)));
        }
      }
    }
    Tensor before = run(m);
    m.mergeLora();
    Tensor after = run(m);
    assertTrue(maxDiff(before, after) < 1e-5, "max difference " + maxDiff(before, after));
    assertFalse(Weights.parameters(m).keySet().stream().anyMatch(k -> k.contains("lora")));
  }
}
