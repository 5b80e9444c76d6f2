package dev.whet.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.data.Task;
import dev.whet.io.Json;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A fine-tuned sentence-embedding model against its base on the same held-out pairs. Graded pairs
 * ({@code similarity}): Spearman correlation of the cosine with the score. Pairs ({@code embed}):
 * every anchor ranks every positive by cosine; recall@1, recall@10 and mean reciprocal rank. Each
 * metric with a bootstrap interval over pairs, and the paired difference of the main one (Spearman,
 * MRR) deciding the verdict.
 *
 * <p>eval.json: {@code task}, {@code n}, each metric for the tuned model under its name ({@code
 * spearman}; {@code recall_at_1}, {@code recall_at_10}, {@code mrr}) and for the base as {@code
 * base_…}, {@code intervals} (name → [low, high], base too), {@code difference} of the main metric
 * ({@code estimate, low, high}), {@code verdict}, {@code forgetting}, {@code data_stats}, {@code
 * timings}.
 */
public final class EmbeddingEvaluation {
  private final Task task;
  private final Bootstrap bootstrap;
  private final Map<String, double[]> values = new LinkedHashMap<>(); // name → {base, tuned}
  private final Map<String, Interval[]> intervals = new LinkedHashMap<>();
  private int n;
  private String main;
  private Interval difference;

  public EmbeddingEvaluation(Task task, Bootstrap bootstrap) {
    this.task = task;
    this.bootstrap = bootstrap;
  }

  /** Graded pairs: the vectors of each side, by the base and by the tuned model. */
  public void similarity(
      double[] gold, float[][] baseA, float[][] baseB, float[][] tunedA, float[][] tunedB) {
    n = gold.length;
    Bootstrap.SampleMetric before = spearman(gold, cosines(baseA, baseB));
    Bootstrap.SampleMetric after = spearman(gold, cosines(tunedA, tunedB));
    add("spearman", before, after);
    main = "spearman";
    difference = bootstrap.difference(n, after, before);
  }

  /** Pairs: anchors and positives, by the base and by the tuned model. */
  public void retrieval(float[][] baseA, float[][] baseB, float[][] tunedA, float[][] tunedB) {
    n = baseA.length;
    int[] before = ranks(baseA, baseB);
    int[] after = ranks(tunedA, tunedB);
    add("recall_at_1", recall(before, 1), recall(after, 1));
    add("recall_at_10", recall(before, 10), recall(after, 10));
    add("mrr", mrr(before), mrr(after));
    main = "mrr";
    difference = bootstrap.difference(n, mrr(after), mrr(before));
  }

  private void add(String name, Bootstrap.SampleMetric before, Bootstrap.SampleMetric after) {
    Interval b = bootstrap.interval(n, before);
    Interval a = bootstrap.interval(n, after);
    values.put(name, new double[] {b.estimate(), a.estimate()});
    intervals.put(name, new Interval[] {b, a});
  }

  private static double[] cosines(float[][] a, float[][] b) {
    double[] c = new double[a.length];
    for (int i = 0; i < c.length; i++) c[i] = Correlation.cosine(a[i], b[i]);
    return c;
  }

  private static Bootstrap.SampleMetric spearman(double[] gold, double[] cos) {
    return idx -> {
      double[] g = new double[idx.length];
      double[] c = new double[idx.length];
      for (int i = 0; i < idx.length; i++) {
        g[i] = gold[idx[i]];
        c[i] = cos[idx[i]];
      }
      return Correlation.spearman(c, g);
    };
  }

  /** Per anchor, the rank of its own positive among all positives by cosine (1 = first). */
  static int[] ranks(float[][] anchors, float[][] positives) {
    int[] ranks = new int[anchors.length];
    for (int i = 0; i < anchors.length; i++) {
      double own = Correlation.cosine(anchors[i], positives[i]);
      int above = 0;
      for (int j = 0; j < positives.length; j++) {
        if (j != i && Correlation.cosine(anchors[i], positives[j]) > own) above++;
      }
      ranks[i] = above + 1;
    }
    return ranks;
  }

  private static Bootstrap.SampleMetric recall(int[] ranks, int k) {
    return idx -> {
      int hits = 0;
      for (int i : idx) hits += ranks[i] <= k ? 1 : 0;
      return (double) hits / idx.length;
    };
  }

  private static Bootstrap.SampleMetric mrr(int[] ranks) {
    return idx -> {
      double s = 0;
      for (int i : idx) s += 1.0 / ranks[i];
      return s / idx.length;
    };
  }

  /** eval.json's content (see the class comment). */
  public ObjectNode result(
      String run, ForgettingCheck forgetting, JsonNode dataStats, Map<String, Double> timings) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("task", task.cliName());
    o.put("run", run);
    o.put("n", n);
    values.forEach((name, v) -> o.put(name, v[1]));
    values.forEach((name, v) -> o.put("base_" + name, v[0]));
    ObjectNode iv = o.putObject("intervals");
    intervals.forEach(
        (name, i) -> {
          iv.putArray(name).add(i[1].low()).add(i[1].high());
          iv.putArray("base_" + name).add(i[0].low()).add(i[0].high());
        });
    o.putObject("difference")
        .put("metric", main)
        .put("estimate", difference.estimate())
        .put("low", difference.low())
        .put("high", difference.high());
    o.put("verdict", verdict());
    o.set("headline", ReportWriter.mapper().valueToTree(headline()));
    o.set("forgetting", forgetting == null ? null : ReportWriter.mapper().valueToTree(forgetting));
    o.set("data_stats", dataStats);
    o.set("timings", Json.MAPPER.valueToTree(timings));
    return o;
  }

  /** The headline: the tuned model against its base, the one cheaper alternative here. */
  private Verdict.Headline headline() {
    double[] v = values.get(main);
    Interval[] i = intervals.get(main);
    String words = main.equals("spearman") ? "Spearman" : "MRR";
    Map<String, Verdict.Score> scores = new LinkedHashMap<>();
    scores.put("fine_tuned", new Verdict.Score("Fine-tuned model", v[1], i[1]));
    scores.put("base", new Verdict.Score("Base model", v[0], i[0]));
    Comparison c =
        new Comparison("fine_tuned", "base", main, difference, Comparison.Outcome.of(difference));
    return Verdict.headline(main, words, "fine_tuned", scores, java.util.List.of(c));
  }

  private String verdict() {
    String words = main.equals("spearman") ? "Spearman correlation" : "mean reciprocal rank";
    double[] v = values.get(main);
    String change =
        String.format(
            Locale.ROOT,
            "%s on these %d pairs: %.3f for the base model, %.3f fine-tuned (%s points, 95%%"
                + " interval %s to %s).",
            Character.toUpperCase(words.charAt(0)) + words.substring(1),
            n,
            v[0],
            v[1],
            signed(difference.estimate()),
            signed(difference.low()),
            signed(difference.high()));
    String outcome =
        difference.low() > 0
            ? " Fine-tuning paid off against the base model."
            : difference.high() < 0
                ? " The fine-tuned model is worse than its base: keep the base model, or train"
                    + " with a lower learning rate or fewer epochs."
                : " No clear difference: fine-tuning is not shown to pay off against the base"
                    + " model.";
    return change + outcome;
  }

  private static String signed(double v) {
    return String.format(Locale.ROOT, "%+.1f", 100 * v);
  }
}
