package dev.whet.bench;

import dev.whet.engine.Engine;
import dev.whet.model.LlamaConfig;
import dev.whet.model.LlamaModel;
import dev.whet.model.Lora;
import dev.whet.model.Weights;
import dev.whet.train.FusedAdamW;
import dev.whet.train.SftEncoding;
import dev.whet.train.SftTask;
import dev.whet.train.Trainer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One LoRA supervised fine-tuning step (forward, loss on every token, backward, AdamW on the
 * adapters) of a randomly initialised decoder of a given shape: the step {@code whet train --task
 * sft} takes, through the same {@link SftTask}, on a fixed batch of random tokens.
 */
public final class SftBench {
  private SftBench() {}

  /**
   * @param msPerStep median over the timed steps
   * @param tokensPerSecond trained tokens per second
   */
  public record Result(
      long parameters,
      long trainable,
      int batch,
      int seqLen,
      int steps,
      String precision,
      double msPerStep,
      double tokensPerSecond,
      int threads) {}

  public static Result run(
      LlamaConfig config, Lora lora, int batch, int seqLen, int steps, boolean bf16) {
    Engine.init();
    torch.manual_seed(0);
    LlamaModel model = LlamaModel.of(config, lora);
    try {
      Map<String, Tensor> adapters = new LinkedHashMap<>();
      long total = 0;
      long trainable = 0;
      for (Map.Entry<String, Tensor> p : Weights.parameters(model).entrySet()) {
        total += p.getValue().numel();
        if (p.getKey().contains(".lora_")) {
          adapters.put(p.getKey(), p.getValue());
          trainable += p.getValue().numel();
        } else {
          p.getValue().set_requires_grad(false);
        }
      }
      if (bf16) {
        Weights.storeFrozenIn(model, torch.ScalarType.BFloat16); // as SftTask.freeze does for LoRA
      }
      Random random = new Random(0);
      List<SftEncoding.Example> rows = new ArrayList<>();
      for (int r = 0; r < batch; r++) {
        long[] ids = new long[seqLen];
        for (int i = 0; i < seqLen; i++) {
          ids[i] = random.nextInt(config.vocabSize());
        }
        rows.add(new SftEncoding.Example(ids, ids));
      }
      SftTask task = new SftTask(model, lora, null, rows, null, 0, 0);
      int[] all = new int[batch];
      Arrays.setAll(all, i -> i);
      FusedAdamW optimizer = new FusedAdamW();
      optimizer.addGroup(adapters, 1e-4, 0.0);
      model.train(true);
      double[] times = new double[steps];
      for (int i = -1; i < steps; i++) { // one warm-up step
        long t0 = System.nanoTime();
        try (PointerScope scope = new PointerScope()) {
          optimizer.zeroGrad();
          Trainer.autocast(bf16, () -> task.loss(all)).backward();
          optimizer.step(1, 1);
        }
        if (i >= 0) {
          times[i] = (System.nanoTime() - t0) / 1e6;
        }
      }
      Arrays.sort(times);
      double ms = times[steps / 2];
      return new Result(
          total,
          trainable,
          batch,
          seqLen,
          steps,
          bf16 ? "bf16" : "fp32",
          ms,
          batch * (double) seqLen / (ms / 1000),
          torch.get_num_threads());
    } finally {
      model.close(); // its weights, now (Block.owning)
    }
  }
}
