package dev.whet.train;

import dev.whet.model.DecoderFiles;
import dev.whet.model.LlamaModel;
import dev.whet.model.Lora;
import dev.whet.model.Weights;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * What every task that trains a decoder shares — supervised fine-tuning ({@link SftTask}) and
 * preference tuning ({@link DpoTask}): which parameters train, their depth and decay, that a LoRA
 * checkpoint holds only the adapters, and that a LoRA run saves the adapter alone (PEFT layout).
 */
abstract class DecoderTask implements TrainTask {
  final LlamaModel model;
  private final Lora lora;
  private final Path base;
  private final String taskName;

  /**
   * @param lora the adapters {@code model} was built with, or null
   * @param base the base model directory (config and tokenizer files of the saved model)
   * @param taskName the task whet.json names ({@code sft}, {@code dpo})
   */
  DecoderTask(LlamaModel model, Lora lora, Path base, String taskName) {
    this.model = model;
    this.lora = lora;
    this.base = base;
    this.taskName = taskName;
  }

  @Override
  public Module module() {
    return model;
  }

  public LlamaModel model() {
    return model;
  }

  @Override
  public void freeze(TrainingPlan plan) {
    switch (plan.method()) {
      case "freeze" -> {
        // The embeddings (also the output projection when tied) and the first N layers.
        Weights.parameters(model)
            .forEach(
                (name, t) -> {
                  if (name.startsWith("model.embed_tokens.")) {
                    t.set_requires_grad(false);
                  }
                });
        int n = Math.min(plan.freezeLayers(), model.layers().length);
        for (int i = 0; i < n; i++) {
          ClassifierTask.requiresGrad(model.layers()[i], false);
        }
      }
      case "lora" -> {
        Weights.parameters(model)
            .forEach(
                (name, t) -> {
                  if (!name.contains(".lora_")) {
                    t.set_requires_grad(false);
                  }
                });
        if (plan.bf16()) {
          // The frozen base is only ever read in bf16 under autocast: store it so, halving its
          // memory and skipping autocast's per-step casts; adapters and their moments stay fp32.
          Weights.storeFrozenIn(model, torch.ScalarType.BFloat16);
        }
      }
      default -> {}
    }
  }

  @Override
  public int layerDepth(String name) {
    return TrainTask.layerDepth(
        name, model.layers().length, "model.embed_tokens.", "model.layers.");
  }

  @Override
  public boolean noDecay(String name) {
    return name.endsWith(".bias") || name.endsWith("norm.weight");
  }

  @Override
  public Map<String, Tensor> checkpointTensors(TrainingPlan plan) {
    Map<String, Tensor> all = Weights.parameters(model);
    if (!plan.method().equals("lora")) {
      return all;
    }
    Map<String, Tensor> adapters = new LinkedHashMap<>();
    all.forEach(
        (name, t) -> {
          if (name.contains(".lora_")) {
            adapters.put(name, t);
          }
        });
    return adapters;
  }

  /** LoRA runs save the adapter alone (PEFT layout); others the whole model. */
  @Override
  public void save(Path dir, TrainingPlan plan, Map<String, Object> info) {
    Map<String, Object> all = new LinkedHashMap<>();
    all.put("task", taskName);
    all.put("base", base.toAbsolutePath().normalize().toString());
    all.putAll(info);
    if (lora != null) {
      DecoderFiles.writeAdapter(model, lora, base, base, dir, all);
    } else {
      DecoderFiles.writeModel(model, base.resolve("config.json"), base, dir, all);
    }
  }
}
