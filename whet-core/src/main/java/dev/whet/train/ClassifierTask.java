package dev.whet.train;

import dev.whet.data.Batching;
import dev.whet.io.Tokenizer;
import dev.whet.model.BertModel;
import dev.whet.model.ClassifierModel;
import dev.whet.model.Weights;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/** Text classification: an encoder with a classification head, trained with cross-entropy. */
public final class ClassifierTask implements TrainTask {
  private final ClassifierModel model;
  private final EncodedSet train;
  private final EncodedSet val;
  private final long padId;

  /**
   * @param val validation examples, or null
   */
  public ClassifierTask(ClassifierModel model, EncodedSet train, EncodedSet val) {
    this.model = model;
    this.train = train;
    this.val = val;
    this.padId = model.tokenizer().padId();
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
  public int[] lengths() {
    return train.lengths();
  }

  @Override
  public Tensor loss(int[] rows) {
    return loss(train.batch(rows, padId), train.targets(rows, model.multiLabel()));
  }

  private Tensor loss(Tokenizer.Batch batch, Tensor targets) {
    Tensor logits = model.logits(batch).to(torch.ScalarType.Float);
    return model.multiLabel()
        ? torch.binary_cross_entropy_with_logits(logits, targets)
        : torch.cross_entropy(logits, targets);
  }

  @Override
  public double weight(int[] rows) {
    return rows.length;
  }

  @Override
  public long tokens(int[] rows) {
    long n = 0;
    for (int r : rows) {
      n += train.ids()[r].length;
    }
    return n;
  }

  @Override
  public boolean hasValidation() {
    return val != null;
  }

  @Override
  public Map<String, Double> validate(boolean bf16) {
    return evaluate(val, bf16);
  }

  /** Loss, accuracy and macro-F1 on a set, in eval mode without autograd. */
  public Map<String, Double> evaluate(EncodedSet set, boolean bf16) {
    model.module().eval();
    double lossSum = 0;
    int[][] predicted = new int[set.size()][];
    try (InferenceMode guard = new InferenceMode()) {
      for (int[] b : Batching.sequential(set.size(), 64)) {
        try (PointerScope scope = new PointerScope()) {
          Tokenizer.Batch batch = set.batch(b, padId);
          Tensor targets = set.targets(b, model.multiLabel());
          Tensor logits =
              Trainer.autocast(bf16, () -> model.logits(batch)).to(torch.ScalarType.Float);
          Tensor loss =
              model.multiLabel()
                  ? torch.binary_cross_entropy_with_logits(logits, targets)
                  : torch.cross_entropy(logits, targets);
          lossSum += loss.item_double() * b.length;
          float[][] p = dev.whet.engine.Tensors.toMatrix(model.probabilities(logits));
          for (int i = 0; i < b.length; i++) {
            predicted[b[i]] = decide(p[i]);
          }
        }
      }
    }
    model.module().train(true);
    return ValidationMetrics.compute(
        set.labels(), predicted, set.numLabels(), lossSum / set.size());
  }

  private int[] decide(float[] probs) {
    if (model.multiLabel()) {
      List<Integer> on = new ArrayList<>();
      for (int c = 0; c < probs.length; c++) {
        if (probs[c] >= 0.5f) {
          on.add(c);
        }
      }
      return on.stream().mapToInt(Integer::intValue).toArray();
    }
    int arg = 0;
    for (int c = 1; c < probs.length; c++) {
      if (probs[c] > probs[arg]) {
        arg = c;
      }
    }
    return new int[] {arg};
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
