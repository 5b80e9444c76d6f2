package dev.whet.eval;

/**
 * Everything the HTML report shows: the evaluation result plus what only the report needs.
 *
 * @param title heading of the report, e.g. "whet eval: run 2026-11-23-sst2"
 * @param result the numbers (also written to eval.json)
 * @param log the run's training curves ({@link TrainingLog#empty()} when there was no run)
 * @param config the run's resolved configuration as text (job.yaml), or null
 */
public record ReportData(String title, EvalResult result, TrainingLog log, String config) {}
