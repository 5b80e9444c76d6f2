package dev.whet.train;

import java.nio.file.Path;
import java.util.Map;

/**
 * What a finished run hands back.
 *
 * @param bestMetric value of the job's metric at the best evaluation (NaN without validation data)
 * @param stoppedEarly whether early stopping ended the run
 * @param test metrics on the test set, empty without one
 * @param evaluation the end-of-run evaluation with baselines (eval/eval.json), or null
 */
public record TrainResult(
    Path runDir,
    Path modelDir,
    String metric,
    double bestMetric,
    long bestStep,
    long steps,
    double trainSeconds,
    long realTokens,
    boolean stoppedEarly,
    Map<String, Double> finalEval,
    Map<String, Double> test,
    dev.whet.eval.EvalResult evaluation) {

  /** The same result with test-set metrics. */
  public TrainResult withTest(Map<String, Double> testMetrics) {
    return new TrainResult(
        runDir,
        modelDir,
        metric,
        bestMetric,
        bestStep,
        steps,
        trainSeconds,
        realTokens,
        stoppedEarly,
        finalEval,
        testMetrics,
        evaluation);
  }

  /** The same result with the end-of-run evaluation. */
  public TrainResult withEvaluation(dev.whet.eval.EvalResult e) {
    return new TrainResult(
        runDir,
        modelDir,
        metric,
        bestMetric,
        bestStep,
        steps,
        trainSeconds,
        realTokens,
        stoppedEarly,
        finalEval,
        test,
        e);
  }
}
