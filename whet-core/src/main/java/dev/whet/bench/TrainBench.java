package dev.whet.bench;

import dev.whet.engine.Engine;
import dev.whet.model.BertModel;
import dev.whet.model.EncoderClassifier;
import dev.whet.model.EncoderConfig;
import dev.whet.model.Pooling;
import dev.whet.model.Weights;
import dev.whet.train.FusedAdamW;
import dev.whet.train.Trainer;
import java.util.Arrays;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One training step (forward, backward, AdamW) of a classifier on a fixed batch, the shape of
 * shared/bench/torch_ref.py, so the two figures compare directly.
 */
public final class TrainBench {
  private TrainBench() {}

  /**
   * @param msPerStep median over the timed steps
   * @param gflops achieved, counting dense layers and attention for forward and backward
   * @param peakGflops a large matrix multiply's rate in the same precision on this machine
   */
  public record Result(
      int batch,
      int seqLen,
      int steps,
      String precision,
      double msPerStep,
      double tokensPerSecond,
      double gflops,
      double peakGflops,
      int threads) {}

  public static Result run(EncoderConfig config, int batch, int seqLen, int steps, boolean bf16) {
    Engine.init();
    torch.manual_seed(0);
    EncoderClassifier model =
        new EncoderClassifier(
            BertModel.of(config, null),
            config.hiddenSize(),
            2,
            new Pooling(Pooling.Mode.MEAN, false),
            0.1);
    try {
      model.train(true);
      FusedAdamW optimizer = new FusedAdamW();
      optimizer.addGroup(Weights.parameters(model), 5e-5, 0.01);
      Tensor ids = torch.randint(1000, config.vocabSize(), new long[] {batch, seqLen});
      Tensor mask = torch.ones(new long[] {batch, seqLen}).to(torch.ScalarType.Long);
      Tensor labels = torch.randint(0, 2, new long[] {batch});
      double[] times = new double[steps];
      for (int i = -2; i < steps; i++) { // two warm-up steps
        long t0 = System.nanoTime();
        try (PointerScope scope = new PointerScope()) {
          optimizer.zeroGrad();
          Tensor logits = Trainer.autocast(bf16, () -> model.forward(ids, mask, null));
          torch.cross_entropy(logits, labels).backward();
          // As the trainer does: the joint gradient norm, clipped to 1 inside the fused AdamW pass.
          double norm = optimizer.gradNorm();
          optimizer.step(1, norm + 1e-6 > 1 ? norm + 1e-6 : 1);
        }
        if (i >= 0) {
          times[i] = (System.nanoTime() - t0) / 1e6;
        }
      }
      Arrays.sort(times);
      double ms = times[steps / 2];
      long dense = 0;
      for (var p : Weights.parameters(model).entrySet()) {
        if (!p.getKey().startsWith("bert.embeddings.")) {
          dense += p.getValue().numel();
        }
      }
      double flops =
          6.0 * dense * batch * seqLen
              + 12.0 * config.layers() * batch * (double) seqLen * seqLen * config.hiddenSize();
      return new Result(
          batch,
          seqLen,
          steps,
          bf16 ? "bf16" : "fp32",
          ms,
          batch * seqLen / (ms / 1000),
          flops / (ms / 1000) / 1e9,
          Engine.matmulGflops(bf16),
          torch.get_num_threads());
    } finally {
      model.close(); // its weights, now (Block.owning)
    }
  }
}
