package dev.whet.model;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Scaled dot-product attention written out as matmul, softmax, matmul, with {@link Dropout} on the
 * probabilities. Used where libtorch's fused {@code scaled_dot_product_attention} is slower:
 *
 * <ul>
 *   <li>with dropout: SDPA has no CPU kernel that takes it and falls back to this same sequence of
 *       ops, drawing the mask with libtorch's {@code dropout}: with the hidden-state dropouts, 58M
 *       serial Bernoulli draws per 32 × 128 step of the default model, about 0.66 s of a 6.6 s step
 *       on the 2-core AVX2 machine;
 *   <li>in bf16: the fused kernel ran attention forward + backward 20x slower than these ops on a
 *       2-core native-bf16 EPYC (311 vs 15 ms for 32 × 12 heads × 128 × 32, 2 threads), inference
 *       likewise (128 vs 5.7 ms).
 * </ul>
 *
 * Elsewhere (fp32 without dropout) the model calls SDPA itself; a test holds the two equal.
 */
final class Attention {
  private Attention() {}

  /**
   * @param q (B, heads, T, d)
   * @param k (B, heads, T, d)
   * @param v (B, heads, T, d)
   * @param bias (B, 1, 1, T) added to the scores (0 or a large negative number), or null
   * @return (B, heads, T, d)
   */
  static Tensor spelledOut(Tensor q, Tensor k, Tensor v, Tensor bias, double p) {
    Tensor scores = scores(q, k); // (B, heads, T, T)
    if (bias != null) {
      scores = scores.add_(bias); // in place: matmul's backward needs its inputs, not its output
    }
    return Dropout.apply(scores.softmax(-1), p, true).matmul(v); // (B, heads, T, d)
  }

  /**
   * As {@link #spelledOut} without dropout, for a boolean mask (decoders: causal or packed).
   *
   * @param allowed broadcastable to (B, heads, T, S), true where a query may attend a key; or null
   * @return (B, heads, T, d)
   */
  static Tensor spelledOut(Tensor q, Tensor k, Tensor v, Tensor allowed) {
    Tensor scores = scores(q, k); // (B, heads, T, S)
    if (allowed != null) {
      // Every row keeps at least its own position, so no row is all -inf.
      scores = scores.masked_fill_(allowed.logical_not(), new Scalar(Double.NEGATIVE_INFINITY));
    }
    return scores.softmax(-1).matmul(v); // (B, heads, T, d)
  }

  /**
   * @param q (B, heads, T, d)
   * @param k (B, heads, S, d)
   * @return (B, heads, T, S) q·kᵀ / √d
   */
  private static Tensor scores(Tensor q, Tensor k) {
    // Scale q rather than the scores: (B, heads, T, d) is S/d times smaller than (B, heads, T, S).
    return q.mul(new Scalar(1.0 / Math.sqrt(q.size(3)))).matmul(k.transpose(-2, -1));
  }

  /** Whether {@code t} holds bf16, as a projection's output does under bf16 autocast. */
  static boolean isBf16(Tensor t) {
    return t.scalar_type().intern() == torch.ScalarType.BFloat16;
  }

  /**
   * @param mask (B, T) 1 for real tokens, 0 for padding
   * @return (B, 1, 1, T) float, 0 where attention is allowed and -1e9 on padding; null when the
   *     batch has no padding, so the scores need no mask at all
   */
  static Tensor paddingBias(Tensor mask) {
    if (mask.min().item_long() != 0) {
      return null;
    }
    return mask.eq(new Scalar(0))
        .to(torch.ScalarType.Float)
        .mul_(new Scalar(-1e9))
        .unsqueeze(1)
        .unsqueeze(2); // (B, 1, 1, T)
  }
}
