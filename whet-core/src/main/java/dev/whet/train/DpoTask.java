package dev.whet.train;

import dev.whet.data.Batching;
import dev.whet.data.Task;
import dev.whet.engine.Tensors;
import dev.whet.eval.PreferenceEvaluation;
import dev.whet.model.Linear;
import dev.whet.model.LlamaModel;
import dev.whet.model.Lora;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;

/**
 * Direct preference optimisation of a decoder ({@link DpoLoss}): each training item is a pair of
 * answers to one prompt, the preferred and the other, encoded like SFT examples (the answer's
 * tokens and its end scored, the prompt not).
 *
 * <p>The reference policy is the starting model — the base with LoRA's adapters switched off, or
 * the weights before full fine-tuning — and its sequence log-probabilities are computed once, when
 * the task is built, before any weights move (TRL's {@code precompute_ref_log_probs}): no second
 * copy of the model and no reference pass per step. A resumed run builds the task from the base
 * again, so its reference is the same.
 */
public final class DpoTask extends DecoderTask {
  /** A prompt with its preferred ({@code chosen}) and other ({@code rejected}) answer. */
  public record Pair(SftEncoding.Example chosen, SftEncoding.Example rejected) {}

  private final List<Pair> train;
  private final List<Pair> val;
  private final double beta;
  private final long padId;
  private final double[][] trainReference;
  private final double[][] valReference;

  /** Per-pair sums of this step's reward statistics (over its micro-batches), and the pairs. */
  private final double[] stepSums = new double[4];

  private double stepPairs;

  /**
   * @param lora the adapters {@code model} was built with, or null
   * @param base the base model directory (config and tokenizer files of the saved model)
   * @param val validation pairs, or null
   * @param bf16 whether training runs under bf16 autocast (the reference is computed so too)
   */
  public DpoTask(
      LlamaModel model,
      Lora lora,
      Path base,
      List<Pair> train,
      List<Pair> val,
      long padId,
      double beta,
      boolean bf16) {
    super(model, lora, base, Task.DPO);
    this.train = train;
    this.val = val;
    this.padId = padId;
    this.beta = beta;
    List<Linear> adapted = model.projections().stream().filter(Linear::hasLora).toList();
    adapted.forEach(l -> l.loraEnabled(false));
    try {
      trainReference = logProbs(model, train, padId, bf16);
      valReference = val == null ? null : logProbs(model, val, padId, bf16);
    } finally {
      adapted.forEach(l -> l.loraEnabled(true));
    }
  }

  /**
   * Summed log-probability of each pair's chosen and rejected answer under {@code model}, in eval
   * mode without autograd.
   *
   * @return per pair {chosen, rejected}
   */
  public static double[][] logProbs(LlamaModel model, List<Pair> pairs, long padId, boolean bf16) {
    boolean wasTraining = model.is_training();
    model.eval();
    double[][] out = new double[pairs.size()][];
    try (InferenceMode guard = new InferenceMode()) {
      for (int[] idx : Batching.sequential(pairs.size(), 8)) {
        try (PointerScope scope = new PointerScope()) {
          float[] lp =
              Tensors.toFloats(
                  Trainer.autocast(bf16, () -> sequenceLogProbs(model, pairs, idx, padId)));
          for (int k = 0; k < idx.length; k++) {
            out[idx[k]] = new double[] {lp[k], lp[idx.length + k]};
          }
        }
      }
    } finally {
      model.train(wasTraining);
    }
    return out;
  }

  /**
   * The chosen answers of pairs {@code rows}, then their rejected ones, padded on the right (causal
   * attention never looks at the padding) and scored in one forward pass: (2 × rows).
   */
  private static Tensor sequenceLogProbs(
      LlamaModel model, List<Pair> pairs, int[] rows, long padId) {
    List<SftEncoding.Example> sequences = new ArrayList<>(2 * rows.length);
    for (int i : rows) {
      sequences.add(pairs.get(i).chosen());
    }
    for (int i : rows) {
      sequences.add(pairs.get(i).rejected());
    }
    SftEncoding.Batch b = SftEncoding.pad(sequences, padId);
    Tensor logits = model.forward(Tensors.fromLongs(b.inputIds(), b.rows(), b.width()));
    return DpoLoss.sequenceLogProbs(logits, Tensors.fromLongs(b.labels(), b.rows(), b.width()));
  }

  @Override
  public int[] lengths() {
    int[] l = new int[train.size()];
    for (int i = 0; i < l.length; i++) {
      l[i] = Math.max(train.get(i).chosen().length(), train.get(i).rejected().length());
    }
    return l;
  }

  @Override
  public Tensor loss(int[] rows) {
    DpoLoss d = dpo(sequenceLogProbs(model, train, rows, padId), trainReference, rows);
    double n = rows.length;
    stepSums[0] += n * d.rewardAccuracy();
    stepSums[1] += n * d.rewardMargin();
    stepSums[2] += n * d.chosenRewards().mean().item_double();
    stepSums[3] += n * d.rejectedRewards().mean().item_double();
    stepPairs += n;
    return d.loss();
  }

  /** The loss of pairs {@code rows} from the policy's log-probabilities (chosen, then rejected). */
  private DpoLoss dpo(Tensor policy, double[][] reference, int[] rows) {
    int n = rows.length;
    float[] chosen = new float[n];
    float[] rejected = new float[n];
    for (int k = 0; k < n; k++) {
      chosen[k] = (float) reference[rows[k]][0];
      rejected[k] = (float) reference[rows[k]][1];
    }
    return DpoLoss.of(
        policy.narrow(0, 0, n),
        policy.narrow(0, n, n),
        Tensors.fromFloats(chosen, n),
        Tensors.fromFloats(rejected, n),
        beta);
  }

  /** The step's mean reward accuracy, margin and chosen and rejected rewards; then starts over. */
  @Override
  public Map<String, Double> stepMetrics() {
    Map<String, Double> m = stepPairs == 0 ? Map.of() : rewardMetrics(stepSums, stepPairs);
    Arrays.fill(stepSums, 0);
    stepPairs = 0;
    return m;
  }

  /** The reward statistics, in the order of their sums. */
  private static final List<String> REWARDS =
      List.of("reward_accuracy", "reward_margin", "chosen_reward", "rejected_reward");

  @Override
  public List<String> stepMetricNames() {
    return REWARDS;
  }

  private static Map<String, Double> rewardMetrics(double[] sums, double pairs) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int i = 0; i < REWARDS.size(); i++) m.put(REWARDS.get(i), sums[i] / pairs);
    return m;
  }

  @Override
  public double weight(int[] rows) {
    return rows.length; // the loss is a mean over pairs
  }

  @Override
  public long tokens(int[] rows) {
    long n = 0;
    for (int i : rows) {
      n += train.get(i).chosen().length() + train.get(i).rejected().length();
    }
    return n;
  }

  @Override
  public boolean hasValidation() {
    return val != null && !val.isEmpty();
  }

  /** The DPO loss and reward statistics of the validation pairs. */
  @Override
  public Map<String, Double> validate(boolean bf16) {
    double[][] policy = logProbs(model, val, padId, bf16);
    double loss = 0;
    double[] sums = new double[4];
    for (int i = 0; i < val.size(); i++) {
      double chosen = beta * (policy[i][0] - valReference[i][0]);
      double rejected = beta * (policy[i][1] - valReference[i][1]);
      double margin = chosen - rejected;
      loss += PreferenceEvaluation.pairLoss(margin);
      sums[0] += margin > 0 ? 1 : 0;
      sums[1] += margin;
      sums[2] += chosen;
      sums[3] += rejected;
    }
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("loss", loss / val.size());
    m.putAll(rewardMetrics(sums, val.size()));
    return m;
  }
}
