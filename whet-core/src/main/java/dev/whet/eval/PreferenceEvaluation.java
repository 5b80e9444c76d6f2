package dev.whet.eval;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Held-out preference pairs scored before and after preference tuning, from the summed
 * log-probabilities of each pair's chosen and rejected answer under the base model and the tuned
 * one.
 *
 * <ul>
 *   <li><b>preference accuracy</b>: the share of pairs whose chosen answer is more likely than the
 *       rejected one — for the base model and for the tuned one, with intervals and the paired
 *       difference (did tuning make the model prefer what people prefer?);
 *   <li><b>reward accuracy</b>: DPO's own measure, the share of pairs whose implicit reward {@code
 *       β (log π(y) − log π_ref(y))} is higher for the chosen answer, the base being the reference;
 *       with the mean reward margin and the DPO loss on these pairs.
 * </ul>
 */
public final class PreferenceEvaluation {
  private PreferenceEvaluation() {}

  /**
   * @param base per pair {chosen, rejected} log-probabilities under the base (reference) model
   * @param tuned the same under the tuned model
   * @param beta the run's β
   * @return eval.json's {@code preference} section
   */
  public static Map<String, Object> of(double[][] base, double[][] tuned, double beta) {
    int n = base.length;
    Bootstrap bootstrap = new Bootstrap();
    Bootstrap.SampleMetric before = prefers(base);
    Bootstrap.SampleMetric after = prefers(tuned);
    double[] margin = new double[n];
    double loss = 0;
    for (int i = 0; i < n; i++) {
      margin[i] = beta * ((tuned[i][0] - base[i][0]) - (tuned[i][1] - base[i][1]));
      loss += pairLoss(margin[i]);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("n", n);
    out.put("beta", beta);
    out.put("preference_accuracy_before", bootstrap.interval(n, before));
    out.put("preference_accuracy_after", bootstrap.interval(n, after));
    Interval difference = bootstrap.difference(n, after, before);
    out.put("preference_accuracy_difference", difference);
    out.put("outcome", Comparison.Outcome.of(difference).name().toLowerCase(java.util.Locale.ROOT));
    out.put(
        "reward_accuracy",
        bootstrap.interval(
            n,
            idx -> {
              int right = 0;
              for (int i : idx) right += margin[i] > 0 ? 1 : 0;
              return (double) right / idx.length;
            }));
    double sum = 0;
    for (double m : margin) sum += m;
    out.put("reward_margin", sum / n);
    out.put("loss", loss / n);
    return out;
  }

  /**
   * DPO's loss of one pair from its reward margin, {@code −log σ(margin)}, without overflow for
   * large margins of either sign.
   */
  public static double pairLoss(double margin) {
    return margin > 0 ? Math.log1p(Math.exp(-margin)) : -margin + Math.log1p(Math.exp(margin));
  }

  /** Share of the resample's pairs whose chosen answer is the more likely one. */
  private static Bootstrap.SampleMetric prefers(double[][] logProbs) {
    return idx -> {
      int right = 0;
      for (int i : idx) right += logProbs[i][0] > logProbs[i][1] ? 1 : 0;
      return (double) right / idx.length;
    };
  }
}
