package dev.whet.model;

import dev.whet.engine.Tensors;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * A dense projection {@code y = x W^T + b} (parameters {@code weight}, {@code bias} as in Hugging
 * Face checkpoints), optionally with a LoRA adapter ({@code lora_A.weight} (r, in) and {@code
 * lora_B.weight} (out, r), B starting at zero so training starts from the pretrained function).
 */
public final class Linear extends Block {
  private final Tensor weight;
  private final Tensor bias;
  private Tensor loraA;
  private Tensor loraB;
  private double scaling;
  private double loraDropout;
  private boolean loraEnabled = true;

  public Linear(int in, int out, boolean bias) {
    // Uniform(-1/sqrt(in), 1/sqrt(in)) like torch.nn.Linear; pretrained weights overwrite it.
    weight = Tensors.own(register_parameter("weight", uniform(new long[] {out, in}, in)));
    this.bias =
        bias ? Tensors.own(register_parameter("bias", uniform(new long[] {out}, in))) : null;
  }

  private static Tensor uniform(long[] shape, long fanIn) {
    double bound = 1.0 / Math.sqrt(fanIn);
    return torch.rand(shape).mul_(new Scalar(2 * bound)).sub_(new Scalar(bound));
  }

  /** A projection with an adapter when {@code lora} targets {@code name}. */
  static Linear of(int in, int out, boolean bias, Lora lora, String name) {
    Linear l = new Linear(in, out, bias);
    if (Lora.on(lora, name)) {
      l.addLora(lora);
    }
    return l;
  }

  private void addLora(Lora lora) {
    long in = weight.size(1);
    long out = weight.size(0);
    Module a = child(this, "lora_A", new Module());
    Module b = child(this, "lora_B", new Module());
    loraA = Tensors.own(a.register_parameter("weight", uniform(new long[] {lora.rank(), in}, in)));
    loraB = Tensors.own(b.register_parameter("weight", torch.zeros(new long[] {out, lora.rank()})));
    scaling = lora.scaling();
    loraDropout = lora.dropout();
    weight.set_requires_grad(false);
    if (bias != null) {
      bias.set_requires_grad(false);
    }
  }

  public Tensor weight() {
    return weight;
  }

  public Tensor bias() {
    return bias;
  }

  public boolean hasLora() {
    return loraA != null;
  }

  /** Turns the adapter's contribution off (the base model's function) or back on. */
  public void loraEnabled(boolean enabled) {
    loraEnabled = enabled;
  }

  /** Folds {@code scaling * B A} into W and drops the adapter: same function, plain projection. */
  public void mergeLora() {
    if (loraA == null) {
      return;
    }
    try (NoGradGuard g = new NoGradGuard()) {
      // In float64, so the merged weight is the float32 nearest to W + s B A: merged logits stay
      // within float rounding of the adapter's.
      Tensor delta =
          loraB
              .to(torch.ScalarType.Double)
              .matmul(loraA.to(torch.ScalarType.Double))
              .mul(new Scalar(scaling)); // (out, in)
      weight.copy_(weight.to(torch.ScalarType.Double).add(delta));
    }
    unregister_module("lora_A");
    unregister_module("lora_B");
    loraA = null;
    loraB = null;
  }

  /**
   * @param x (..., in)
   * @return (..., out)
   */
  public Tensor forward(Tensor x) {
    Tensor y;
    if (x.numel() == weight.size(1)) {
      // One row (decoding one token): a matrix-vector product. linear's GEMM path for a single row
      // measured 3-6x slower than GEMV with the bundled OpenBLAS (e.g. 576 -> 1536: 4.7-10 ms vs
      // 0.8-3 ms on the 2-core AVX2 machine).
      long[] shape = Tensors.shape(x);
      shape[shape.length - 1] = weight.size(0);
      y = weight.mv(x.reshape(-1)); // (out)
      if (bias != null) {
        y = y.add(bias);
      }
      y = y.view(shape); // (..., out)
    } else {
      y = torch.linear(x, weight, bias == null ? new TensorOptional() : new TensorOptional(bias));
    }
    if (loraA != null && loraEnabled) {
      Tensor h = Dropout.apply(x, loraDropout, is_training());
      Tensor delta = torch.linear(torch.linear(h, loraA), loraB); // (..., out)
      y = y.add(delta.mul(new Scalar(scaling)));
    }
    return y;
  }
}
