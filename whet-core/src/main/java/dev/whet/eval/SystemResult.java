package dev.whet.eval;

/**
 * One system (the fine-tuned model or a baseline) scored on the test set.
 *
 * @param name key used in eval.json, e.g. {@code fine_tuned}, {@code tfidf_logreg}
 * @param description human name shown in the report
 * @param accuracy accuracy on the full test set
 * @param f1Macro macro F1 on the full test set
 * @param accuracyInterval bootstrap 95% interval of the accuracy
 * @param f1MacroInterval bootstrap 95% interval of the macro F1
 * @param metrics every metric
 * @param seconds wall time to fit (baselines) and predict, or NaN when unknown
 * @param setting how a tuned baseline was set up and how that was chosen (shown in the report), or
 *     null
 */
public record SystemResult(
    String name,
    String description,
    double accuracy,
    double f1Macro,
    Interval accuracyInterval,
    Interval f1MacroInterval,
    Metrics.Classification metrics,
    double seconds,
    String setting) {}
