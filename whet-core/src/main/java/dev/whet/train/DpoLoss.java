package dev.whet.train;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Direct preference optimisation's loss (Rafailov et al., 2023, the sigmoid form): for each pair,
 * {@code -log σ(β · ((log π(chosen) − log π_ref(chosen)) − (log π(rejected) − log
 * π_ref(rejected))))}, averaged over pairs, with the sequence log-probabilities summed over the
 * answer's tokens. Held to a plain-PyTorch implementation by {@code DpoLossTest} (fixture from
 * {@code src/test/resources/dpo/make_dpo_fixture.py}).
 *
 * @param loss the mean loss over the pairs (differentiable)
 * @param chosenRewards per pair {@code β (log π(chosen) − log π_ref(chosen))}, detached
 * @param rejectedRewards the same for the rejected answers
 */
public record DpoLoss(Tensor loss, Tensor chosenRewards, Tensor rejectedRewards) {

  /** Label value of tokens that are context (the prompt, padding), not scored. */
  public static final long IGNORE = -100;

  /**
   * The loss from the four sequence log-probabilities (each shaped (pairs)).
   *
   * @param beta how far the policy may move from the reference: higher keeps it closer
   */
  public static DpoLoss of(
      Tensor policyChosen,
      Tensor policyRejected,
      Tensor referenceChosen,
      Tensor referenceRejected,
      double beta) {
    Tensor chosen = policyChosen.sub(referenceChosen).mul(new Scalar(beta));
    Tensor rejected = policyRejected.sub(referenceRejected).mul(new Scalar(beta));
    Tensor loss = torch.log_sigmoid(chosen.sub(rejected)).mean().neg();
    return new DpoLoss(loss, chosen.detach(), rejected.detach());
  }

  /**
   * Summed log-probability of each sequence's scored tokens: {@code logits} (sequences, T, vocab)
   * at position t predict token t + 1 of {@code labels} (sequences, T), whose {@link #IGNORE}
   * entries are not scored.
   */
  public static Tensor sequenceLogProbs(Tensor logits, Tensor labels) {
    long t = logits.size(1);
    Tensor predicting = logits.narrow(1, 0, t - 1).to(torch.ScalarType.Float);
    Tensor next = labels.narrow(1, 1, t - 1);
    Tensor scored = next.ne(new Scalar(IGNORE));
    Tensor ids = next.clamp_min(new Scalar(0)).unsqueeze(2);
    Tensor picked = torch.log_softmax(predicting, 2).gather(2, ids).squeeze(2);
    return picked
        .mul(scored.to(torch.ScalarType.Float))
        .sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
  }

  /** Share of pairs whose chosen answer gains more reward than the rejected one. */
  public double rewardAccuracy() {
    return chosenRewards.gt(rejectedRewards).to(torch.ScalarType.Float).mean().item_double();
  }

  /** Mean of the chosen reward minus the rejected one. */
  public double rewardMargin() {
    return chosenRewards.sub(rejectedRewards).mean().item_double();
  }
}
