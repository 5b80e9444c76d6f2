package dev.whet.train;

import dev.whet.model.BertModel;
import dev.whet.model.Weights;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * What every task that trains a BERT-family encoder shares — a classification head per text ({@link
 * ClassifierTask}) or per token ({@link TokenTask}), or sentence embeddings ({@link EmbedTask}):
 * which parameters train, their depth and decay, what a checkpoint holds, and that a LoRA model is
 * saved merged.
 */
abstract class EncoderTask implements TrainTask {
  private final Module module;
  private final BertModel bert;
  private final String prefix;
  private final Runnable mergeLora;
  private final BiConsumer<Path, Map<String, Object>> saveModel;

  /**
   * @param module what trains: the encoder, or the encoder with its head
   * @param bert the encoder inside it
   * @param prefix the encoder's parameter names' prefix in {@code module} ({@code bert.} or none)
   * @param mergeLora folds the adapters into the weights
   * @param saveModel writes the model (HF layout plus whet.json with the info given)
   */
  EncoderTask(
      Module module,
      BertModel bert,
      String prefix,
      Runnable mergeLora,
      BiConsumer<Path, Map<String, Object>> saveModel) {
    this.module = module;
    this.bert = bert;
    this.prefix = prefix;
    this.mergeLora = mergeLora;
    this.saveModel = saveModel;
  }

  @Override
  public Module module() {
    return module;
  }

  /** Which parameters train: all, all but the embeddings and first N layers, or adapters + head. */
  @Override
  public void freeze(TrainingPlan plan) {
    switch (plan.method()) {
      case "freeze" -> {
        requiresGrad(bert.embeddings(), false);
        int n = Math.min(plan.freezeLayers(), bert.layers().length);
        for (int i = 0; i < n; i++) {
          requiresGrad(bert.layers()[i], false);
        }
      }
      case "lora" -> {
        // The adapters were built trainable and their base weights frozen; freeze the rest too.
        for (Map.Entry<String, Tensor> p : Weights.parameters(bert).entrySet()) {
          if (!p.getKey().contains(".lora_")) {
            p.getValue().set_requires_grad(false);
          }
        }
      }
      default -> {}
    }
  }

  static void requiresGrad(Module m, boolean on) {
    TensorVector ps = m.parameters(true);
    for (long i = 0; i < ps.size(); i++) {
      ps.get(i).set_requires_grad(on);
    }
  }

  @Override
  public int layerDepth(String name) {
    return TrainTask.layerDepth(
        name, bert.layers().length, prefix + "embeddings.", prefix + "encoder.layer.");
  }

  @Override
  public boolean noDecay(String name) {
    return name.endsWith(".bias") || name.contains("LayerNorm");
  }

  @Override
  public Map<String, Tensor> checkpointTensors(TrainingPlan plan) {
    Map<String, Tensor> all = Weights.parameters(module);
    if (!plan.method().equals("lora")) {
      return all;
    }
    Map<String, Tensor> trained = new LinkedHashMap<>();
    all.forEach(
        (name, t) -> {
          if (t.requires_grad()) {
            trained.put(name, t); // adapters and the head; the encoder comes from the base
          }
        });
    return trained;
  }

  /** A LoRA model is saved merged: a plain model any tool loads. */
  @Override
  public void save(Path dir, TrainingPlan plan, Map<String, Object> info) {
    if (plan.method().equals("lora")) {
      mergeLora.run();
    }
    saveModel.accept(dir, info);
  }
}
