package dev.whet.train;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * What the {@link Trainer} trains: a model with its encoded data, its loss and its validation
 * metrics. The loop, optimizer, schedule, checkpoints and listeners are the trainer's and the same
 * for every task; a task says what a batch is, what it costs and how its model is saved. {@link
 * EncoderTask}s (classifiers, taggers, embeddings) and {@link DecoderTask}s (a decoder learning
 * completions, or preferences).
 */
public interface TrainTask {
  /** The model: its named parameters are what checkpoints and optimizer groups hold. */
  Module module();

  /** Sets which parameters train for the job's method (full, freeze, lora). */
  void freeze(TrainingPlan plan);

  /**
   * A parameter's distance from the output in layers, for layer-wise learning-rate decay: 0 for the
   * head and final norm, the number of layers + 1 for the embeddings.
   */
  int layerDepth(String name);

  /**
   * {@link #layerDepth} for a model of {@code layers} layers whose embedding parameters start with
   * {@code embeddings} and whose layer i's start with {@code layerPrefix} + i + ".".
   */
  static int layerDepth(String name, int layers, String embeddings, String layerPrefix) {
    if (name.startsWith(embeddings)) {
      return layers + 1;
    }
    if (name.startsWith(layerPrefix)) {
      int end = name.indexOf('.', layerPrefix.length());
      return layers - Integer.parseInt(name.substring(layerPrefix.length(), end));
    }
    return 0;
  }

  /** Whether a parameter goes without weight decay (biases, norms). */
  boolean noDecay(String name);

  /** Token counts of the training items, for length-grouped batches. */
  int[] lengths();

  /**
   * The mean loss of training items {@code rows} in train mode. Autocast, when on, is set by the
   * caller.
   */
  Tensor loss(int[] rows);

  /**
   * How much a micro-batch counts when several are accumulated into one step: rows for a
   * classifier, trained tokens for a language model.
   */
  double weight(int[] rows);

  /**
   * Statistics of the optimizer step that just ended, beside its loss (DPO's rewards), averaged
   * over its micro-batches; called once per step, after them. None by default.
   */
  default Map<String, Double> stepMetrics() {
    return Map.of();
  }

  /** The names {@link #stepMetrics} may hold, the same on every rank of a group. */
  default List<String> stepMetricNames() {
    return List.of();
  }

  /** Real (non-padding) tokens of training items {@code rows}. */
  long tokens(int[] rows);

  /** Whether there is a validation set. */
  boolean hasValidation();

  /** Metrics on the validation set (always including {@code loss}), in eval mode. */
  Map<String, Double> validate(boolean bf16);

  /**
   * {@link #validate(boolean)} in a data-parallel group: a task that can add up its parts scores
   * only its {@code shard} of the validation set and sums with the other ranks, so every rank
   * returns the metrics of the whole set. By default each rank scores the whole set.
   */
  default Map<String, Double> validate(boolean bf16, Shard shard) {
    return validate(bf16);
  }

  /** The tensors a checkpoint holds: all parameters, or only the trained ones for LoRA. */
  Map<String, Tensor> checkpointTensors(TrainingPlan plan);

  /** Writes the final model (HF layout plus whet.json with {@code info}) to {@code dir}. */
  void save(Path dir, TrainingPlan plan, Map<String, Object> info);
}
