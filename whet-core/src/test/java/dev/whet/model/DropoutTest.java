package dev.whet.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.engine.Engine;
import dev.whet.engine.Tensors;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The training fast paths (Dropout, Attention) against what they replace. */
@Tag("engine")
class DropoutTest {
  @Test
  void dropsAboutPAndScalesTheRest() {
    Engine.init();
    torch.manual_seed(3);
    int n = 1_000_000;
    Tensor x = torch.ones(new long[] {n}).requires_grad_(true);
    Tensor y = Dropout.apply(x, 0.1, true);
    double zeros = y.eq(new Scalar(0)).sum().item_double() / n;
    // Binomial(1e6, 0.1): standard deviation 3e-4.
    assertEquals(0.1, zeros, 0.002, "share dropped");
    double kept = y.sum().item_double() / (n * (1 - zeros));
    assertEquals(1 / 0.9, kept, 1e-5, "kept values scaled by 1 / (1 - p)");
    y.sum().backward();
    assertEquals(0.0, x.grad().sub(y).abs().max().item_double(), 0.0, "gradient is the mask");

    torch.manual_seed(3);
    Tensor again = Dropout.apply(torch.ones(new long[] {n}), 0.1, true);
    assertEquals(0.0, again.sub(y).abs().max().item_double(), 0.0, "same seed, same mask");
    assertSame(x, Dropout.apply(x, 0.1, false), "identity outside training");
  }

  @Test
  void largeMasksAreDrawnInTwoHalvesFromTheDefaultGeneratorsState() {
    Engine.init();
    long[] shape = {3, 1000, 500}; // 1.5M, above the parallel threshold
    torch.manual_seed(11);
    Tensor u = Dropout.uniform(shape);
    torch.manual_seed(11);
    Tensor again = Dropout.uniform(shape);
    assertEquals(0.0, u.sub(again).abs().max().item_double(), 0.0, "same seed, same draw");
    Tensor next = Dropout.uniform(shape);
    assertTrue(
        u.ne(next).to(torch.ScalarType.Float).mean().item_double() > 0.99, "next draw differs");

    Tensor flat = u.view(-1);
    Tensor first = flat.narrow(0, 0, 750_000);
    Tensor second = flat.narrow(0, 750_000, 750_000);
    for (Tensor half : new Tensor[] {first, second}) {
      // U[0, 1) over 750k draws: mean 0.5 with standard deviation 3.3e-4, variance 1/12.
      assertEquals(0.5, half.mean().item_double(), 0.002);
      assertEquals(1.0 / 12, half.var().item_double(), 0.001);
      assertTrue(half.min().item_double() >= 0 && half.max().item_double() < 1);
    }
    // Two generators, not one stream twice: the halves are unrelated.
    double corr =
        first.sub(new Scalar(0.5)).mul(second.sub(new Scalar(0.5))).mean().item_double() * 12;
    assertEquals(0.0, corr, 0.01, "correlation of the two halves");
  }

  @Test
  void attentionWrittenOutMatchesSdpa() {
    Engine.init();
    torch.manual_seed(5);
    Tensor q = torch.randn(new long[] {2, 3, 5, 4}); // (B, heads, T, d)
    Tensor k = torch.randn(new long[] {2, 3, 5, 4});
    Tensor v = torch.randn(new long[] {2, 3, 5, 4});
    Tensor mask = Tensors.fromLongs(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, 2, 5);
    Tensor attend = mask.to(torch.ScalarType.Bool).unsqueeze(1).unsqueeze(2);
    Tensor sdpa =
        torch.scaled_dot_product_attention(
            q, k, v, new TensorOptional(attend), 0.0, false, new DoubleOptional(), false);
    Tensor bias = Attention.paddingBias(mask);
    Tensor mine = Attention.spelledOut(q, k, v, bias, 0.0);
    assertEquals(0.0, mine.sub(sdpa).abs().max().item_double(), 1e-6);
    // The model hands SDPA the same additive mask as the written-out path.
    Tensor sdpaBias =
        torch.scaled_dot_product_attention(
            q, k, v, new TensorOptional(bias), 0.0, false, new DoubleOptional(), false);
    assertEquals(0.0, sdpaBias.sub(sdpa).abs().max().item_double(), 1e-6);

    Tensor full = torch.ones(new long[] {2, 5}).to(torch.ScalarType.Long);
    assertEquals(null, Attention.paddingBias(full), "no padding, no mask");
    Tensor plain =
        torch.scaled_dot_product_attention(
            q, k, v, new TensorOptional(), 0.0, false, new DoubleOptional(), false);
    Tensor unmasked = Attention.spelledOut(q, k, v, null, 0.0);
    assertEquals(0.0, unmasked.sub(plain).abs().max().item_double(), 1e-6);
  }

  @Test
  void attentionDropoutIsSetApartFromHiddenDropout() {
    Engine.init();
    Tensor ids = Tensors.fromLongs(new long[] {1, 5, 9, 12, 3, 7, 0, 0}, 2, 4);
    Tensor mask = Tensors.fromLongs(new long[] {1, 1, 1, 1, 1, 1, 0, 0}, 2, 4);
    BertModel none = tinyEncoder(0.0);
    none.train(true);
    Tensor trained = none.forward(ids, mask, null);
    none.eval();
    Tensor evaluated = none.forward(ids, mask, null);
    assertEquals(
        0.0,
        trained.sub(evaluated).abs().max().item_double(),
        1e-6,
        "without any dropout, training runs the same attention as evaluation");

    BertModel attentionOnly = tinyEncoder(0.5);
    attentionOnly.train(true);
    Tensor dropped = attentionOnly.forward(ids, mask, null);
    assertTrue(
        dropped.sub(evaluated).abs().max().item_double() > 1e-3,
        "attention dropout alone changes the training forward pass");
  }

  /** A 2-layer encoder without hidden dropout, the same weights for every call. */
  private static BertModel tinyEncoder(double attentionDropout) {
    torch.manual_seed(2);
    return BertModel.of(
        new EncoderConfig(
            "bert", 100, 16, 2, 2, 32, 32, 2, 1e-12, 0.0, attentionDropout, "gelu", 0, 0),
        null);
  }
}
