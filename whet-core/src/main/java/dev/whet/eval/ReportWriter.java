package dev.whet.eval;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import dev.whet.WhetException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes eval/report.html and eval/eval.json. The HTML is one self-contained file: inline CSS,
 * inline SVG, no scripts and no external resources (a Content-Security-Policy forbids them too),
 * and every piece of text from the data is escaped.
 */
public final class ReportWriter {
  private ReportWriter() {}

  /** Writes report.html and eval.json into {@code evalDir} (created if needed). */
  public static void write(Path evalDir, ReportData data) {
    try {
      Files.createDirectories(evalDir);
      Files.writeString(evalDir.resolve("report.html"), html(data), StandardCharsets.UTF_8);
      Files.writeString(evalDir.resolve("eval.json"), json(data.result()), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new WhetException("cannot write the report to " + evalDir + ": " + e.getMessage(), e);
    }
  }

  /**
   * The JSON form of a result: snake_case keys, NaN (a metric that does not apply, e.g. ROC-AUC of
   * a multi-class task) written as null.
   */
  public static String json(EvalResult result) {
    try {
      return mapper().writerWithDefaultPrettyPrinter().writeValueAsString(result) + "\n";
    } catch (IOException e) {
      throw new IllegalStateException("eval result is not serialisable", e);
    }
  }

  /** The mapper used for eval.json, also for reading it back. */
  public static ObjectMapper mapper() {
    JsonSerializer<Double> nanAsNull =
        new JsonSerializer<>() {
          @Override
          public void serialize(Double v, JsonGenerator g, SerializerProvider p)
              throws IOException {
            if (v == null || v.isNaN() || v.isInfinite()) g.writeNull();
            else g.writeNumber(v);
          }
        };
    SimpleModule module = new SimpleModule();
    module.addSerializer(Double.class, nanAsNull);
    module.addSerializer(double.class, nanAsNull);
    return new ObjectMapper()
        .registerModule(module)
        .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
  }

  private static final String CSS =
      """
      body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#111827;background:#f9fafb}
      main{max-width:1100px;margin:0 auto;padding:24px}
      h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
      section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px 16px;margin:12px 0}
      table{border-collapse:collapse;margin:6px 0}td,th{padding:4px 10px;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top}
      th{background:#f3f4f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
      .verdict{font-size:15px;background:#eff6ff;border-left:4px solid #2563eb;padding:10px 12px}
      .flag{background:#fef2f2;border-left:4px solid #dc2626;padding:10px 12px}.ok{background:#f0fdf4;border-left:4px solid #16a34a;padding:10px 12px}
      .charts{display:flex;flex-wrap:wrap;gap:12px}pre{background:#f3f4f6;padding:10px;overflow:auto;max-height:420px}
      svg text{font:11px system-ui,sans-serif;fill:#374151}svg text.legend{font-size:12px}svg text.axis-label{font-size:12px;fill:#111827}
      svg text.cell{font-size:11px;fill:#111827}svg text.cell.light{fill:#fff}svg .axis{stroke:#9ca3af;stroke-width:1}
      .muted{color:#6b7280}.text{max-width:520px;word-break:break-word}
      tr.best td{font-weight:700;background:#f0fdf4}.headline{font-size:16px;font-weight:700}
      .warn{background:#fffbeb;border-left:4px solid #d97706;padding:10px 12px}
      """;

  /** Renders the whole report. */
  public static String html(ReportData data) {
    EvalResult r = data.result();
    StringBuilder b = page(data.title());
    b.append(
        p(
            "muted",
            String.format(
                Locale.ROOT,
                "%s · %d test examples · %d classes · compared system: %s",
                r.run(),
                r.n(),
                r.labels().size(),
                r.reference())));

    verdict(b, r.verdict(), r.headline());
    baselines(b, r);
    curves(b, data.log());
    if (r.multiLabel() != null) {
      labels(b, r);
    } else {
      classes(b, r);
    }
    forgetting(b, r.forgetting());
    if (r.errors() != null) {
      errors(b, r.errors());
    }
    return end(b, r.dataStats(), data.config(), r.timings());
  }

  /** The page up to its title. */
  private static StringBuilder page(String title) {
    StringBuilder b = new StringBuilder(64 * 1024);
    b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    // No scripts, no fetches: even if escaping had a hole, nothing could run or leave the file.
    b.append(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src"
            + " 'unsafe-inline'; img-src data:\">");
    b.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    b.append("<title>").append(Html.esc(title)).append("</title>");
    b.append("<style>").append(CSS).append("</style></head><body><main>");
    b.append("<h1>").append(Html.esc(title)).append("</h1>");
    return b;
  }

  /** Data statistics, configuration and timings, and the page's end. */
  private static String end(
      StringBuilder b, JsonNode dataStats, String config, Map<String, Double> timings) {
    b.append("<h2>Data statistics</h2><section>");
    if (dataStats == null) b.append(p("muted", "No data statistics were recorded."));
    else b.append("<pre>").append(Html.esc(dataStats.toPrettyString())).append("</pre>");
    b.append("</section><h2>Configuration</h2><section>");
    if (config == null) b.append(p("muted", "No run configuration (a model was evaluated)."));
    else b.append("<pre>").append(Html.esc(config)).append("</pre>");
    b.append("</section><h2>Timings</h2><section><table><tr><th>stage</th><th>seconds</th></tr>");
    for (Map.Entry<String, Double> t : timings.entrySet()) {
      b.append("<tr><td>").append(Html.esc(t.getKey())).append("</td>");
      b.append(num(String.format(Locale.ROOT, "%.2f", t.getValue()))).append("</tr>");
    }
    b.append("</table></section></main></body></html>\n");
    return b.toString();
  }

  /** Writes a tagger's report.html and eval.json into {@code evalDir}. */
  public static void writeEntities(
      Path evalDir, String title, EntityEvaluation.Result r, TrainingLog log, String config) {
    try {
      Files.createDirectories(evalDir);
      Files.writeString(
          evalDir.resolve("report.html"),
          entityHtml(title, r, log, config),
          StandardCharsets.UTF_8);
      Files.writeString(
          evalDir.resolve("eval.json"),
          mapper().writerWithDefaultPrettyPrinter().writeValueAsString(r) + "\n",
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new WhetException("cannot write the report to " + evalDir + ": " + e.getMessage(), e);
    }
  }

  /** Writes a sentence-embedding model's report.html and eval.json into {@code evalDir}. */
  public static void writeEmbeddings(
      Path evalDir,
      String title,
      JsonNode r,
      ForgettingCheck forgetting,
      TrainingLog log,
      String config) {
    StringBuilder b = page(title);
    b.append(
        p(
            "muted",
            String.format(
                Locale.ROOT,
                "%s · %d held-out pairs · task %s · the fine-tuned model against its base",
                r.path("run").asText(),
                r.path("n").asInt(),
                r.path("task").asText())));
    b.append("<h2>Verdict</h2>").append(p("verdict", r.path("verdict").asText()));
    b.append("<h2>Before and after</h2><section><table><tr><th>metric</th><th>base</th>");
    b.append("<th>95% interval</th><th>fine-tuned</th><th>95% interval</th></tr>");
    List<Svg.Bar> bars = new ArrayList<>();
    for (String name : List.of("spearman", "recall_at_1", "recall_at_10", "mrr")) {
      if (!r.has(name)) continue;
      JsonNode base = r.path("intervals").path("base_" + name);
      JsonNode tuned = r.path("intervals").path(name);
      b.append("<tr><td>").append(Html.esc(name.replace('_', ' '))).append("</td>");
      b.append(num(f3(r.get("base_" + name).asDouble())));
      b.append(num("[" + f3(base.path(0).asDouble()) + ", " + f3(base.path(1).asDouble()) + "]"));
      b.append(num(f3(r.get(name).asDouble())));
      b.append(num("[" + f3(tuned.path(0).asDouble()) + ", " + f3(tuned.path(1).asDouble()) + "]"));
      b.append("</tr>");
      Interval bi =
          new Interval(
              r.get("base_" + name).asDouble(), base.path(0).asDouble(), base.path(1).asDouble());
      Interval ti =
          new Interval(r.get(name).asDouble(), tuned.path(0).asDouble(), tuned.path(1).asDouble());
      bars.add(new Svg.Bar("base " + name, bi.estimate(), bi, ""));
      bars.add(new Svg.Bar("fine-tuned " + name, ti.estimate(), ti, ""));
    }
    b.append("</table>");
    b.append(Svg.bars("before-after", "Base and fine-tuned, with 95% intervals", bars));
    b.append(
        p(
            "muted",
            "Intervals: percentile bootstrap over pairs (1,000 resamples, fixed seed); the"
                + " difference is paired."));
    b.append("</section>");
    curves(b, log);
    forgetting(b, forgetting);
    Map<String, Double> timings = new java.util.LinkedHashMap<>();
    r.path("timings")
        .fields()
        .forEachRemaining(e -> timings.put(e.getKey(), e.getValue().asDouble()));
    String html =
        end(
            b,
            r.get("data_stats") == null || r.get("data_stats").isNull()
                ? null
                : r.get("data_stats"),
            config,
            timings);
    try {
      Files.createDirectories(evalDir);
      Files.writeString(evalDir.resolve("report.html"), html, StandardCharsets.UTF_8);
      Files.writeString(
          evalDir.resolve("eval.json"), r.toPrettyString() + "\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new WhetException("cannot write the report to " + evalDir + ": " + e.getMessage(), e);
    }
  }

  /** A tagger's report: systems by entity F1, per type, errors, training, forgetting. */
  static String entityHtml(
      String title, EntityEvaluation.Result r, TrainingLog log, String config) {
    StringBuilder b = page(title);
    b.append(
        p(
            "muted",
            String.format(
                Locale.ROOT,
                "%s · %d test sentences · %d entity types · compared system: %s · strict IOB2"
                    + " entities (seqeval's strict mode)",
                r.run(),
                r.n(),
                r.types().size(),
                r.reference())));
    verdict(b, r.verdict(), r.headline());
    b.append("<h2>Systems compared</h2><section><table><tr><th>system</th>");
    b.append("<th>entity F1</th><th>95% interval</th><th>precision</th><th>recall</th>");
    b.append("<th>token accuracy</th><th>entity F1 difference vs ");
    b.append(Html.esc(r.reference())).append(" (95% interval)</th><th>seconds</th></tr>");
    List<Svg.Bar> bars = new ArrayList<>();
    double best =
        r.baselines().values().stream()
            .mapToDouble(EntityEvaluation.SystemScores::entityF1)
            .max()
            .orElse(0);
    for (EntityEvaluation.SystemScores s : r.baselines().values()) {
      Comparison c =
          r.comparisons().stream().filter(x -> x.other().equals(s.name())).findFirst().orElse(null);
      b.append(row(s.entityF1() == best)).append(Html.esc(s.description()));
      b.append(" <span class=\"muted\">").append(Html.esc(s.name())).append("</span>");
      if (s.setting() != null) {
        b.append("<br><span class=\"muted\">").append(Html.esc(s.setting())).append("</span>");
      }
      b.append("</td>").append(num(f3(s.entityF1()))).append(num(interval(s.entityF1Interval())));
      b.append(num(f3(s.entityPrecision()))).append(num(f3(s.entityRecall())));
      b.append(num(f3(s.tokenAccuracy())));
      b.append(num(c == null ? "reference" : difference(c)));
      b.append(
          num(Double.isNaN(s.seconds()) ? "–" : String.format(Locale.ROOT, "%.2f", s.seconds())));
      b.append("</tr>");
      bars.add(new Svg.Bar(s.description(), s.entityF1(), s.entityF1Interval(), ""));
    }
    b.append("</table>").append(p("muted", "The highest entity F1 is in bold."));
    b.append(Svg.bars("systems-f1", "Entity F1 per system with 95% interval", bars));
    b.append(
        p(
            "muted",
            "Intervals: percentile bootstrap over test sentences (1,000 resamples, fixed seed);"
                + " differences are paired."));
    b.append("</section><h2>Entity types</h2><section><table><tr><th>type</th>");
    for (EntityEvaluation.SystemScores s : r.baselines().values()) {
      b.append("<th>").append(Html.esc(s.name())).append(" F1</th>");
    }
    b.append("<th>precision</th><th>recall</th><th>support</th></tr>");
    for (String type : r.types()) {
      b.append("<tr><td>").append(Html.esc(type)).append("</td>");
      for (EntityEvaluation.SystemScores s : r.baselines().values()) {
        EntityMetrics.TypeScores t = s.perType().get(type);
        b.append(num(t == null ? "–" : f3(t.f1())));
      }
      EntityMetrics.TypeScores t = r.perType().get(type);
      b.append(num(t == null ? "–" : f3(t.precision())));
      b.append(num(t == null ? "–" : f3(t.recall())));
      b.append(num(t == null ? "0" : Integer.toString(t.support()))).append("</tr>");
    }
    b.append("</table></section>");
    EntityEvaluation.Errors e = r.errors();
    b.append("<h2>Error analysis</h2><section>");
    b.append(
        p(
            "",
            String.format(
                Locale.ROOT,
                "Gold entities the %s did not find exactly: %d with the right span but another"
                    + " type, %d with a wrong boundary (an overlapping span), %d missed entirely;"
                    + " %d predicted entities overlap no gold entity.",
                r.reference(),
                e.typeConfusions(),
                e.boundaryErrors(),
                e.missed(),
                e.spurious())));
    if (!e.confusions().isEmpty()) {
      b.append("<h3>Type confusions</h3><table><tr><th>gold → predicted</th><th>count</th></tr>");
      e.confusions().forEach((k, v) -> row(b, k, Integer.toString(v)));
      b.append("</table>");
    }
    b.append("<h3>Most frequent entities not found</h3>");
    if (e.mostMissed().isEmpty()) b.append(p("muted", "None."));
    else {
      b.append("<table><tr><th>entity</th><th>type</th><th>times</th></tr>");
      for (EntityEvaluation.Missed m : e.mostMissed()) {
        b.append("<tr><td class=\"text\">").append(Html.esc(m.text())).append("</td><td>");
        b.append(Html.esc(m.type())).append("</td>").append(num(Integer.toString(m.count())));
        b.append("</tr>");
      }
      b.append("</table>");
    }
    b.append("</section>");
    curves(b, log);
    forgetting(b, r.forgetting());
    return end(b, r.dataStats(), config, r.timings());
  }

  private static String difference(Comparison c) {
    return String.format(
        Locale.ROOT,
        "%+.1f pts [%+.1f, %+.1f] %s",
        100 * c.difference().estimate(),
        100 * c.difference().low(),
        100 * c.difference().high(),
        switch (c.outcome()) {
          case BETTER -> "reference better";
          case WORSE -> "reference worse";
          case NO_CLEAR_DIFFERENCE -> "no clear difference";
        });
  }

  /** The verdict, its one-line headline first, coloured by the outcome. */
  private static void verdict(StringBuilder b, String verdict, Verdict.Headline headline) {
    b.append("<h2>Verdict</h2>");
    if (headline != null) {
      String kind =
          switch (headline.outcome()) {
            case "above" -> "ok";
            case "below" -> "flag";
            default -> "warn";
          };
      b.append(p("headline " + kind, headline.sentence()));
    }
    b.append(p("verdict", verdict));
  }

  /** A table row's start; the best system's row is drawn in bold. */
  private static String row(boolean best) {
    return best ? "<tr class=\"best\"><td>" : "<tr><td>";
  }

  private static void baselines(StringBuilder b, EvalResult r) {
    b.append("<h2>Systems compared</h2><section><table><tr><th>system</th><th>accuracy</th>");
    b.append("<th>95% interval</th><th>macro F1</th><th>95% interval</th>");
    b.append("<th>macro F1 difference vs ").append(Html.esc(r.reference()));
    b.append(" (95% interval)</th><th>seconds</th></tr>");
    List<Svg.Bar> bars = new ArrayList<>();
    double best =
        r.baselines().values().stream().mapToDouble(SystemResult::f1Macro).max().orElse(0);
    for (SystemResult s : r.baselines().values()) {
      Comparison c =
          r.comparisons().stream()
              .filter(x -> x.other().equals(s.name()) && x.metric().equals("f1_macro"))
              .findFirst()
              .orElse(null);
      b.append(row(s.f1Macro() == best)).append(Html.esc(s.description()));
      b.append(" <span class=\"muted\">").append(Html.esc(s.name())).append("</span>");
      if (s.setting() != null) {
        b.append("<br><span class=\"muted\">").append(Html.esc(s.setting())).append("</span>");
      }
      b.append("</td>");
      b.append(num(f3(s.accuracy()))).append(num(interval(s.accuracyInterval())));
      b.append(num(f3(s.f1Macro()))).append(num(interval(s.f1MacroInterval())));
      b.append(num(c == null ? "reference" : difference(c)));
      b.append(
          num(Double.isNaN(s.seconds()) ? "–" : String.format(Locale.ROOT, "%.2f", s.seconds())));
      b.append("</tr>");
      bars.add(new Svg.Bar(s.description(), s.f1Macro(), s.f1MacroInterval(), ""));
    }
    b.append("</table>").append(p("muted", "The highest macro F1 is in bold."));
    b.append(Svg.bars("systems-f1", "Macro F1 per system with 95% interval", bars));
    b.append(
        p(
            "muted",
            "Intervals: percentile bootstrap over test examples (1,000 resamples, fixed seed);"
                + " differences are paired (both systems scored on the same resamples)."));
    b.append("</section>");
  }

  private static void curves(StringBuilder b, TrainingLog log) {
    b.append("<h2>Training</h2><section>");
    List<Svg.Series> loss = new ArrayList<>(Svg.seriesOf(log, List.of("loss"), false));
    loss.addAll(Svg.seriesOf(log, List.of("eval_loss"), true));
    List<String> metricKeys = new ArrayList<>();
    for (String key : log.series().keySet()) {
      if (key.startsWith("eval_")
          && !key.equals("eval_loss")
          && !key.contains("runtime")
          && !key.contains("per_second")) {
        metricKeys.add(key);
      }
    }
    List<Svg.Series> metrics = Svg.seriesOf(log, metricKeys, true);
    List<Svg.Series> lr = Svg.seriesOf(log, List.of("lr", "learning_rate"), false);
    if (loss.isEmpty() && metrics.isEmpty() && lr.isEmpty()) {
      b.append(p("muted", "No training log (metrics.jsonl) was found."));
    } else {
      b.append("<div class=\"charts\">");
      if (!loss.isEmpty()) b.append(Svg.lineChart("loss", "Loss against step", "loss", loss));
      if (!metrics.isEmpty()) {
        b.append(
            Svg.lineChart("eval-metric", "Validation metrics against step", "metric", metrics));
      }
      if (!lr.isEmpty()) b.append(Svg.lineChart("lr", "Learning rate against step", "lr", lr));
      b.append("</div>");
    }
    b.append("</section>");
  }

  private static void classes(StringBuilder b, EvalResult r) {
    SystemResult ref = r.baselines().get(r.reference());
    Metrics.Classification m = ref.metrics();
    b.append("<h2>Per class (").append(Html.esc(ref.description())).append(")</h2><section>");
    b.append("<div class=\"charts\">");
    b.append(Svg.heatMap("confusion", "Confusion matrix", m.confusion(), r.labels()));
    List<Svg.Bar> bars = new ArrayList<>();
    for (Metrics.ClassScores s : r.errors().worstClasses()) {
      bars.add(new Svg.Bar(s.label(), s.f1(), null, "  (n=" + s.support() + ")"));
    }
    b.append(Svg.bars("per-class-f1", "F1 per class, worst first", bars));
    b.append("</div><table><tr><th>metric</th><th>value</th></tr>");
    row(b, "accuracy", f3(m.accuracy()));
    row(b, "macro precision / recall / F1", avg(m.macro()));
    row(b, "micro precision / recall / F1", avg(m.micro()));
    row(b, "weighted precision / recall / F1", avg(m.weighted()));
    if (!Double.isNaN(m.rocAuc())) row(b, "ROC-AUC", f3(m.rocAuc()));
    if (!Double.isNaN(m.averagePrecision()))
      row(b, "PR-AUC (average precision)", f3(m.averagePrecision()));
    if (!Double.isNaN(m.logLoss())) row(b, "log-loss", f3(m.logLoss()));
    if (!Double.isNaN(m.ece())) row(b, "expected calibration error (15 bins)", f3(m.ece()));
    b.append("</table><table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>");
    b.append("<th>support</th></tr>");
    for (Metrics.ClassScores s : r.errors().worstClasses()) {
      b.append("<tr><td>").append(Html.esc(s.label())).append("</td>");
      b.append(num(f3(s.precision()))).append(num(f3(s.recall()))).append(num(f3(s.f1())));
      b.append(num(Integer.toString(s.support()))).append("</tr>");
    }
    b.append("</table></section>");
  }

  /** A multi-label model's scores per system and per label, with the thresholds used. */
  private static void labels(StringBuilder b, EvalResult r) {
    MultiLabelEvaluation.Scores m = r.multiLabel();
    b.append("<h2>Per label</h2><section>");
    b.append(p("muted", "Thresholds of the " + r.reference() + " model: " + m.thresholds() + "."));
    b.append("<table><tr><th>system</th><th>subset accuracy</th><th>micro F1</th>");
    b.append("<th>95% interval</th><th>macro F1</th><th>Hamming loss</th></tr>");
    for (Map.Entry<String, MultiLabelEvaluation.SystemScores> e : m.systems().entrySet()) {
      SystemResult s = r.baselines().get(e.getKey());
      b.append("<tr><td>").append(Html.esc(s.description())).append("</td>");
      b.append(num(f3(s.accuracy()))).append(num(f3(e.getValue().microF1())));
      b.append(num(interval(e.getValue().microF1Interval()))).append(num(f3(s.f1Macro())));
      b.append(num(f3(e.getValue().hammingLoss()))).append("</tr>");
    }
    b.append("</table>");
    MultiLabelEvaluation.SystemScores ref = m.systems().get(r.reference());
    List<Svg.Bar> bars = new ArrayList<>();
    for (MultiLabelEvaluation.LabelScores l : ref.labels()) {
      bars.add(new Svg.Bar(l.label(), l.f1(), null, "  (n=" + l.support() + ")"));
    }
    b.append(Svg.bars("per-label-f1", "F1 per label (" + r.reference() + ")", bars));
    b.append("<table><tr><th>label</th><th>threshold</th><th>precision</th><th>recall</th>");
    b.append("<th>F1</th><th>support</th></tr>");
    for (MultiLabelEvaluation.LabelScores l : ref.labels()) {
      b.append("<tr><td>").append(Html.esc(l.label())).append("</td>");
      b.append(num(String.format(Locale.ROOT, "%.2f", l.threshold())));
      b.append(num(f3(l.precision()))).append(num(f3(l.recall()))).append(num(f3(l.f1())));
      b.append(num(Integer.toString(l.support()))).append("</tr>");
    }
    b.append("</table></section>");
  }

  private static void forgetting(StringBuilder b, ForgettingCheck f) {
    b.append("<h2>Forgetting check</h2><section>");
    if (f == null) {
      b.append(p("muted", "Not run."));
    } else {
      String text =
          String.format(
              Locale.ROOT,
              "%s: %.3f before fine-tuning, %.3f after (drop %.3f; flagged above %.3f). %s",
              f.task(),
              f.before(),
              f.after(),
              f.drop(),
              f.threshold(),
              f.flagged()
                  ? "The model lost general ability: consider fewer epochs, a lower learning rate"
                      + " or LoRA instead of full fine-tuning."
                  : "No meaningful loss of general ability.");
      b.append(p(f.flagged() ? "flag" : "ok", text));
    }
    b.append("</section>");
  }

  private static void errors(StringBuilder b, ErrorAnalysis e) {
    b.append("<h2>Error analysis</h2><section><h3>Suggestions</h3><ul>");
    for (String s : e.suggestions()) b.append("<li>").append(Html.esc(s)).append("</li>");
    b.append("</ul><h3>Most confused label pairs</h3>");
    if (e.confusedPairs().isEmpty()) b.append(p("muted", "No mistakes."));
    else {
      b.append("<table><tr><th>gold</th><th>predicted as</th><th>count</th></tr>");
      for (ErrorAnalysis.ConfusedPair c : e.confusedPairs()) {
        b.append("<tr><td>").append(Html.esc(c.gold())).append("</td><td>");
        b.append(Html.esc(c.predicted())).append("</td>").append(num(Integer.toString(c.count())));
        b.append("</tr>");
      }
      b.append("</table>");
    }
    b.append("<h3>Most confident mistakes</h3>");
    if (e.confidentMistakes().isEmpty()) b.append(p("muted", "None (or no probabilities)."));
    else {
      b.append("<table><tr><th>#</th><th>text</th><th>gold</th><th>predicted</th>");
      b.append("<th>confidence</th></tr>");
      for (ErrorAnalysis.Mistake m : e.confidentMistakes()) {
        b.append(num(Integer.toString(m.index())));
        b.append("<td class=\"text\">").append(Html.esc(m.text())).append("</td><td>");
        b.append(Html.esc(m.gold())).append("</td><td>").append(Html.esc(m.predicted()));
        b.append("</td>").append(num(f3(m.confidence()))).append("</tr>");
      }
      b.append("</table>");
    }
    b.append("<h3>Possibly mislabelled training data</h3>");
    if (e.conflicts().isEmpty()) {
      b.append(p("muted", "No near-duplicate training texts with different labels."));
    } else {
      b.append("<table><tr><th>text</th><th>label</th><th>text</th><th>label</th>");
      b.append("<th>similarity</th></tr>");
      for (ErrorAnalysis.Conflict c :
          e.conflicts().subList(0, Math.min(20, e.conflicts().size()))) {
        b.append("<tr><td class=\"text\">").append(Html.esc(c.firstText())).append("</td><td>");
        b.append(Html.esc(c.firstLabel())).append("</td><td class=\"text\">");
        b.append(Html.esc(c.secondText())).append("</td><td>").append(Html.esc(c.secondLabel()));
        b.append("</td>").append(num(f3(c.similarity()))).append("</tr>");
      }
      b.append("</table>");
      if (e.conflicts().size() > 20) {
        b.append(p("muted", (e.conflicts().size() - 20) + " more in eval.json."));
      }
    }
    if (e.conflictSearchTruncated()) {
      b.append(p("muted", "The near-duplicate search stopped at its comparison budget."));
    }
    b.append("</section>");
  }

  private static void row(StringBuilder b, String name, String value) {
    b.append("<tr><td>").append(Html.esc(name)).append("</td>").append(num(value)).append("</tr>");
  }

  private static String p(String cls, String text) {
    return "<p class=\"" + cls + "\">" + Html.esc(text) + "</p>";
  }

  private static String num(String text) {
    return "<td class=\"num\">" + Html.esc(text) + "</td>";
  }

  private static String f3(double v) {
    return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.3f", v);
  }

  private static String avg(Metrics.Averaged a) {
    return f3(a.precision()) + " / " + f3(a.recall()) + " / " + f3(a.f1());
  }

  private static String interval(Interval i) {
    return "[" + f3(i.low()) + ", " + f3(i.high()) + "]";
  }
}
