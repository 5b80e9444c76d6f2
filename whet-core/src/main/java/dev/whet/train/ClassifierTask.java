package dev.whet.train;

import dev.whet.io.Tokenizer;
import dev.whet.model.ClassifierModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Text classification: an encoder with a classification head on the pooled text, trained with
 * cross-entropy (binary per label for multi-label).
 */
public final class ClassifierTask extends EncoderTask {
  private final ClassifierModel model;
  private final EncodedSet train;
  private final EncodedSet val;
  private final long padId;

  /**
   * @param val validation examples, or null
   */
  public ClassifierTask(ClassifierModel model, EncodedSet train, EncodedSet val) {
    super(model.module(), model.module().bert(), "bert.", model::mergeLora, model::save);
    this.model = model;
    this.train = train;
    this.val = val;
    this.padId = model.tokenizer().padId();
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
    return loss(model.logits(batch).to(torch.ScalarType.Float), targets);
  }

  /** Cross-entropy of float logits: per label for multi-label models, else over the labels. */
  private Tensor loss(Tensor logits, Tensor targets) {
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

  @Override
  public Map<String, Double> validate(boolean bf16, Shard shard) {
    return evaluate(val, bf16, shard);
  }

  /** Loss, accuracy and macro-F1 on a set, in eval mode without autograd. */
  public Map<String, Double> evaluate(EncodedSet set, boolean bf16) {
    return evaluate(set, bf16, Shard.ALL);
  }

  /**
   * {@link #evaluate(EncodedSet, boolean)} with this rank scoring its shard of the rows; the loss
   * sum and the predictions (as one-hot rows, zero where another rank scored) are summed over the
   * ranks, so the metrics are the whole set's.
   */
  private Map<String, Double> evaluate(EncodedSet set, boolean bf16, Shard shard) {
    model.module().eval();
    double lossSum = 0;
    int labels = set.numLabels();
    double[] part = new double[1 + set.size() * labels]; // [loss sum, predicted labels (n, C)]
    try (InferenceMode guard = new InferenceMode()) {
      for (int[] b : shard.batches(set.size(), 64)) {
        try (PointerScope scope = new PointerScope()) {
          Tokenizer.Batch batch = set.batch(b, padId);
          Tensor targets = set.targets(b, model.multiLabel());
          Tensor logits =
              Trainer.autocast(bf16, () -> model.logits(batch)).to(torch.ScalarType.Float);
          lossSum += loss(logits, targets).item_double() * b.length;
          float[][] p = dev.whet.engine.Tensors.toMatrix(model.probabilities(logits));
          for (int i = 0; i < b.length; i++) {
            for (int c : decide(p[i])) {
              part[1 + b[i] * labels + c] = 1;
            }
          }
        }
      }
    }
    model.module().train(true);
    part[0] = lossSum;
    double[] all = shard.sum().apply(part);
    int[][] predicted = new int[set.size()][];
    for (int i = 0; i < predicted.length; i++) {
      int row = i;
      predicted[i] =
          java.util.stream.IntStream.range(0, labels)
              .filter(c -> all[1 + row * labels + c] > 0.5)
              .toArray();
    }
    return ValidationMetrics.compute(set.labels(), predicted, labels, all[0] / set.size());
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
}
