/**
 * Evaluation: did fine-tuning pay off? Pure Java, no engine: everything here works on label
 * indices, probabilities, texts and embeddings that the caller computed.
 *
 * <ul>
 *   <li>{@link dev.whet.eval.Metrics}: accuracy, per-class and macro/micro/weighted precision,
 *       recall and F1, confusion matrix, ROC-AUC, PR-AUC, log-loss, ECE; multi-label subset
 *       accuracy, Hamming loss, micro/macro F1. Same definitions as scikit-learn (tested on
 *       fixtures it produced).
 *   <li>{@link dev.whet.eval.Bootstrap}: percentile intervals and paired differences.
 *   <li>{@link dev.whet.eval.Baselines}: nearest centroid, kNN and linear probe on frozen
 *       embeddings; TF-IDF + logistic regression on text ({@link dev.whet.eval.TfidfVectorizer},
 *       {@link dev.whet.eval.LogisticRegression}).
 *   <li>{@link dev.whet.eval.ForgettingCheck}: STS-B Spearman before and after, flagged past a
 *       threshold.
 *   <li>{@link dev.whet.eval.ErrorAnalysis}, {@link dev.whet.eval.Verdict}: what goes wrong and
 *       what to do; whether the fine-tune beat the cheaper methods.
 *   <li>{@link dev.whet.eval.Evaluation} collects systems into an {@link dev.whet.eval.EvalResult};
 *       {@link dev.whet.eval.ReportWriter} writes eval.json and the self-contained report.html;
 *       {@link dev.whet.eval.ModelComparison} is {@code whet compare}.
 * </ul>
 *
 * <p>Wiring {@code whet eval} from a run directory takes the model-dependent parts only:
 *
 * <pre>{@code
 * Evaluation ev = new Evaluation(labels, testGold, testTexts, trainTexts, trainLabels);
 * ev.add("fine_tuned", "Fine-tuned model", predicted, probabilities, predictSeconds);
 * if (baselines) ev.addBaselines(baseModel.embed(trainTexts), baseModel.embed(testTexts));
 * List<ForgettingCheck.Pair> sts = ForgettingCheck.readStsb(stsFile);
 * ForgettingCheck forgetting = ForgettingCheck.of("STS-B test, Spearman (cosine vs gold)",
 *     ForgettingCheck.stsSpearman(base.embed(firsts), base.embed(seconds), gold),
 *     ForgettingCheck.stsSpearman(tuned.embed(firsts), tuned.embed(seconds), gold));
 * EvalResult result = ev.result(runId, "fine_tuned", forgetting, dataStatsJson, timings);
 * ReportWriter.write(runDir.resolve("eval"), new ReportData("whet eval: " + runId, result,
 *     TrainingLog.read(runDir.resolve("metrics.jsonl")), Files.readString(runDir.resolve("job.yaml"))));
 * // --json: print ReportWriter.json(result)
 * }</pre>
 */
package dev.whet.eval;
