package dev.whet.eval;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * Everything {@code whet eval} measured: written as eval/eval.json (snake_case keys, see {@link
 * ReportWriter}) and rendered in report.html. The top level carries {@code accuracy}, {@code
 * f1_macro} and {@code n} of the reference system and {@code baselines} maps each system name
 * ({@code knn}, {@code centroid}, {@code linear_probe}, {@code tfidf_logreg}, {@code
 * tfidf_char_logreg}, {@code fine_tuned}) to its {@link SystemResult}, with the {@code setting} a
 * tuned baseline was given: the contract scripts rely on.
 *
 * @param run run id or model directory evaluated
 * @param reference name of the system the others are compared with (normally {@code fine_tuned})
 * @param labels class names, index = label id
 * @param n number of test examples
 * @param accuracy the reference system's accuracy
 * @param f1Macro the reference system's macro F1
 * @param baselines every system scored, reference included, in the order they were added
 * @param comparisons the reference against each other system
 * @param verdict plain-language summary of the comparisons
 * @param headline the verdict as a banner shows it (outcome, best alternative, next steps)
 * @param forgetting the forgetting check, or null when it was not run
 * @param errors error analysis of the reference system
 * @param dataStats data statistics as found by the data check (any JSON object), or null
 * @param timings seconds per stage (e.g. training, evaluation, each baseline)
 * @param multiLabel a multi-label model's further scores (micro F1, Hamming loss, per label with
 *     thresholds), or null for a single-label one; its {@code accuracy} is then the subset accuracy
 *     and {@code f1_macro} the macro F1 over labels, and there is no error analysis
 */
public record EvalResult(
    String run,
    String reference,
    List<String> labels,
    int n,
    double accuracy,
    double f1Macro,
    Map<String, SystemResult> baselines,
    List<Comparison> comparisons,
    String verdict,
    Verdict.Headline headline,
    ForgettingCheck forgetting,
    ErrorAnalysis errors,
    JsonNode dataStats,
    Map<String, Double> timings,
    MultiLabelEvaluation.Scores multiLabel) {}
