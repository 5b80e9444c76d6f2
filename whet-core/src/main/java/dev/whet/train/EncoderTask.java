package dev.whet.train;

import dev.whet.model.BertModel;
import dev.whet.model.ClassifierModel;
import dev.whet.model.Weights;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * What every task on an encoder with a classification head shares, per text ({@link
 * ClassifierTask}) or per token ({@link TokenTask}): which parameters train, their depth and decay,
 * what a checkpoint holds and how the model is saved.
 */
abstract class EncoderTask implements TrainTask {
  protected final ClassifierModel model;

  EncoderTask(ClassifierModel model) {
    this.model = model;
  }

  @Override
  public Module module() {
    return model.module();
  }

  /** Which parameters train: all, all but the embeddings and first N layers, or adapters + head. */
  @Override
  public void freeze(TrainingPlan plan) {
    BertModel bert = model.module().bert();
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
        name, model.module().bert().layers().length, "bert.embeddings.", "bert.encoder.layer.");
  }

  @Override
  public boolean noDecay(String name) {
    return name.endsWith(".bias") || name.contains("LayerNorm");
  }

  @Override
  public Map<String, Tensor> checkpointTensors(TrainingPlan plan) {
    Map<String, Tensor> all = Weights.parameters(model.module());
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

  /** A LoRA classifier is saved merged: a plain model any tool loads. */
  @Override
  public void save(Path dir, TrainingPlan plan, Map<String, Object> info) {
    if (plan.method().equals("lora")) {
      model.mergeLora();
    }
    model.save(dir, info);
  }
}
