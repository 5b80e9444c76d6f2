package dev.whet.train;

import java.nio.file.Path;
import java.util.Map;

/**
 * What a finished run hands back.
 *
 * @param bestMetric value of the job's metric at the best evaluation (NaN without validation data)
 * @param stoppedEarly whether early stopping ended the run
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
    Map<String, Double> finalEval) {}
