package dev.whet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.engine.Engine;
import dev.whet.engine.Tensors;
import dev.whet.model.BertModel;
import dev.whet.model.EncoderClassifier;
import dev.whet.model.EncoderConfig;
import dev.whet.model.Pooling;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The bf16 autocast path (attention written out, see {@code model.Attention}) against the plain
 * fp32 one (fused attention) on a tiny model with padding (tiny: where bf16 is emulated it is about
 * a hundred times slower). Loss and gradients agree to bf16's precision.
 */
@Tag("engine")
class PrecisionTest {
  @Test
  void bf16AutocastStepMatchesFp32Step() {
    Engine.init();
    double[] losses = new double[2];
    float[][] grads = new float[2][];
    for (int run = 0; run < 2; run++) {
      torch.manual_seed(3);
      EncoderClassifier m =
          new EncoderClassifier(
              BertModel.of(
                  new EncoderConfig(
                      "bert", 200, 32, 2, 4, 64, 32, 2, 1e-12, 0.0, 0.0, "gelu", 0, 0),
                  null),
              32,
              3,
              new Pooling(Pooling.Mode.MEAN, false),
              0.0);
      m.train(true);
      Tensor ids = torch.randint(1, 200, new long[] {4, 12});
      Tensor mask = torch.ones(new long[] {4, 12}).to(torch.ScalarType.Long);
      mask.narrow(1, 9, 3).narrow(0, 0, 2).fill_(new org.bytedeco.pytorch.Scalar(0)); // padding
      Tensor y = Tensors.fromLongs(new long[] {0, 1, 2, 1}, 4);
      boolean bf16 = run == 1;
      torch.set_autocast_enabled(torch.DeviceType.CPU, bf16);
      torch.set_autocast_dtype(torch.DeviceType.CPU, torch.ScalarType.BFloat16);
      Tensor raw = m.forward(ids, mask, null);
      torch.set_autocast_enabled(torch.DeviceType.CPU, false);
      torch.clear_cache();
      // The head's matrix multiply really ran in bf16 under autocast, and in fp32 without it
      // (issue 17: the check before passed whether autocast did anything or not).
      assertEquals(
          (bf16 ? torch.ScalarType.BFloat16 : torch.ScalarType.Float).value,
          raw.scalar_type().value,
          bf16 ? "autocast did not run the head in bf16" : "fp32 run");
      Tensor logits = raw.to(torch.ScalarType.Float);
      Tensor loss = torch.cross_entropy(logits, y);
      loss.backward();
      losses[run] = loss.item_double();
      grads[run] = Tensors.toFloats(m.classifier().weight().grad());
    }
    assertTrue(
        Math.abs(losses[0] - losses[1]) < 2e-2, "fp32 " + losses[0] + " vs bf16 " + losses[1]);
    assertNotEquals(losses[0], losses[1], "bf16 rounds: the losses cannot agree to the last bit");
    double num = 0;
    double den = 0;
    for (int i = 0; i < grads[0].length; i++) {
      num += (grads[0][i] - grads[1][i]) * (grads[0][i] - grads[1][i]);
      den += grads[0][i] * grads[0][i];
    }
    assertTrue(Math.sqrt(num / den) < 0.05, "relative gradient difference " + Math.sqrt(num / den));
  }
}
