package dev.whet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.WhetException;
import dev.whet.engine.Engine;
import dev.whet.io.TensorData;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.OptimizerParamGroup;
import org.bytedeco.pytorch.OptimizerParamGroupVector;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The fused AdamW against libtorch's own {@code torch::optim::AdamW} as the reference. */
class FusedAdamWTest {
  @BeforeAll
  static void engine() {
    Engine.init();
  }

  /** Two groups (as decayed weights and undecayed biases), fresh parameters from a fixed seed. */
  private static Map<String, Tensor> params(long seed) {
    torch.manual_seed(seed);
    Map<String, Tensor> p = new LinkedHashMap<>();
    p.put("w", torch.randn(64, 48).set_requires_grad(true));
    p.put("b", torch.randn(48).set_requires_grad(true));
    return p;
  }

  /** A loss whose gradients differ from step to step. */
  private static void backward(Map<String, Tensor> p, int step) {
    torch.manual_seed(1000 + step);
    Tensor x = torch.randn(16, 64);
    x.matmul(p.get("w"))
        .add(p.get("b"))
        .tanh()
        .pow(new org.bytedeco.pytorch.Scalar(2))
        .sum()
        .backward();
  }

  private static FusedAdamW fused(Map<String, Tensor> p) {
    FusedAdamW o = new FusedAdamW();
    o.addGroup(Map.of("w", p.get("w")), 1e-2, 0.1);
    o.addGroup(Map.of("b", p.get("b")), 5e-3, 0.0);
    return o;
  }

  private static double maxDiff(Map<String, Tensor> a, Map<String, Tensor> b) {
    double d = 0;
    for (String k : a.keySet()) {
      d = Math.max(d, a.get(k).sub(b.get(k)).abs().max().item_double());
    }
    return d;
  }

  @Test
  void matchesLibtorchAdamWWithGroupsDecayAndASchedule() {
    Map<String, Tensor> mine = params(7);
    Map<String, Tensor> ref = params(7);
    FusedAdamW f = fused(mine);
    AdamW a = new AdamW(new OptimizerParamGroupVector(), new AdamWOptions(1e-2));
    double[][] groups = {{1e-2, 0.1}, {5e-3, 0.0}};
    String[] names = {"w", "b"};
    for (int g = 0; g < 2; g++) {
      AdamWOptions o = new AdamWOptions(groups[g][0]);
      o.weight_decay().put(groups[g][1]);
      a.add_param_group(new OptimizerParamGroup(new TensorVector(ref.get(names[g])), o));
    }
    double moved = 0;
    for (int step = 0; step < 8; step++) {
      double factor = 1.0 - step / 10.0; // a decaying schedule
      backward(mine, step);
      backward(ref, step);
      f.step(factor, 1);
      for (int g = 0; g < 2; g++) {
        a.param_groups().get(g).options().set_lr(groups[g][0] * factor);
      }
      try (var noGrad = new org.bytedeco.pytorch.NoGradGuard()) {
        a.step();
      }
      f.zeroGrad();
      a.zero_grad(true);
      moved = Math.max(moved, maxDiff(mine, params(7)));
    }
    assertTrue(moved > 0.05, "the parameters moved: " + moved);
    assertTrue(maxDiff(mine, ref) < 1e-6, "equal to libtorch's AdamW: " + maxDiff(mine, ref));
    assertFalse(mine.get("w").grad().defined(), "zeroGrad drops the gradients");
  }

  @Test
  void gradDivisorEqualsDividingTheGradientsFirst() {
    Map<String, Tensor> divided = params(3);
    Map<String, Tensor> scaled = params(3);
    FusedAdamW f1 = fused(divided);
    FusedAdamW f2 = fused(scaled);
    double norm = 0;
    for (int step = 0; step < 4; step++) {
      backward(divided, step);
      backward(scaled, step);
      norm = f1.gradNorm();
      assertEquals(norm, f2.gradNorm(), 0.0);
      f1.step(1, norm / 0.5); // clipping to norm 0.5
      try (var noGrad = new org.bytedeco.pytorch.NoGradGuard()) {
        for (Tensor t : scaled.values()) {
          t.grad().mul_(new org.bytedeco.pytorch.Scalar(0.5 / norm));
        }
      }
      f2.step(1, 1);
      f1.zeroGrad();
      f2.zeroGrad();
    }
    assertTrue(norm > 0.5, "the test clips: norm " + norm);
    assertTrue(maxDiff(divided, scaled) < 1e-6, "max diff " + maxDiff(divided, scaled));
  }

  @Test
  void savedStateResumesExactly() {
    Map<String, Tensor> straight = params(5);
    FusedAdamW a = fused(straight);
    Map<String, Tensor> resumed = params(5);
    FusedAdamW b = fused(resumed);
    Map<String, TensorData> saved = null;
    for (int step = 0; step < 6; step++) {
      backward(straight, step);
      a.step(1, 1);
      a.zeroGrad();
      if (step < 3) {
        backward(resumed, step);
        b.step(1, 1);
        b.zeroGrad();
      }
      if (step == 2) {
        saved = b.stateData();
      }
    }
    // A new optimizer on the step-3 weights, with the saved state, continues identically.
    FusedAdamW c = fused(resumed);
    c.loadState(saved, "test");
    assertEquals(List.of(3.0f), List.of(saved.get("w.step").data().getFloat(0)));
    for (int step = 3; step < 6; step++) {
      backward(resumed, step);
      c.step(1, 1);
      c.zeroGrad();
    }
    assertEquals(0.0, maxDiff(straight, resumed), "bit-identical after resuming");
  }

  @Test
  void stateOfAnotherModelIsRefusedByName() {
    FusedAdamW a = fused(params(1));
    Map<String, TensorData> other = new HashMap<>(a.stateData());
    other.remove("b.exp_avg");
    WhetException e =
        assertThrows(
            WhetException.class,
            () -> fused(params(1)).loadState(other, "ckpt/optimizer.safetensors"));
    assertTrue(e.getMessage().contains("ckpt/optimizer.safetensors"), e.getMessage());
    assertTrue(
        e.getMessage().contains("'b'") || e.getMessage().contains("parameters"), e.getMessage());
  }
}
