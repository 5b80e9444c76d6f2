package dev.whet.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportWriterTest {
  static final List<String> CHARTS =
      List.of("systems-f1", "loss", "eval-metric", "lr", "confusion", "per-class-f1");

  @Test
  void writesEvalJsonWithTheScriptContract(@TempDir Path dir) throws Exception {
    ReportData data = SampleReport.build(false);
    ReportWriter.write(dir, data);
    JsonNode json = new ObjectMapper().readTree(Files.readString(dir.resolve("eval.json")));
    assertEquals(150, json.get("n").asInt());
    assertEquals(data.result().accuracy(), json.get("accuracy").asDouble());
    assertEquals(data.result().f1Macro(), json.get("f1_macro").asDouble());
    for (String name :
        List.of(
            "knn", "centroid", "linear_probe", "tfidf_logreg", "tfidf_char_logreg", "fine_tuned")) {
      JsonNode system = json.get("baselines").get(name);
      assertTrue(system.get("accuracy").isNumber(), name);
      assertTrue(system.get("f1_macro").isNumber(), name);
      assertTrue(system.get("f1_macro_interval").get("low").isNumber(), name);
    }
    // metrics that do not apply are null, not the invalid JSON token NaN
    assertTrue(json.get("baselines").get("fine_tuned").get("metrics").get("roc_auc").isNull());
    assertTrue(json.get("forgetting").get("flagged").asBoolean());
    assertEquals(10, json.get("comparisons").size());
    assertTrue(
        json.get("baselines").get("knn").get("setting").asText().startsWith("k="),
        "a tuned baseline's setting is in eval.json");
    assertFalse(json.get("verdict").asText().isBlank());
  }

  @Test
  void htmlHasEveryChartAndSection(@TempDir Path dir) throws Exception {
    ReportWriter.write(dir, SampleReport.build(false));
    String html = Files.readString(dir.resolve("report.html"));
    for (String chart : CHARTS) {
      assertTrue(html.contains("data-chart=\"" + chart + "\""), chart);
    }
    for (String heading :
        List.of(
            "Verdict",
            "Systems compared",
            "Training",
            "Forgetting check",
            "Error analysis",
            "Data statistics",
            "Configuration",
            "Timings")) {
      assertTrue(html.contains("<h2>" + heading), heading);
    }
  }

  @Test
  void dataCannotInjectMarkupOrFetchAnything() {
    String html = ReportWriter.html(SampleReport.build(true));
    String lower = html.toLowerCase(Locale.ROOT);
    for (String tag : List.of("<script", "<img", "<link", "<iframe", "<object", "<embed")) {
      assertFalse(lower.contains(tag), tag + " reached the report");
    }
    // Escaped text has no raw '<', so any tag with a handler or a resource attribute is real.
    assertFalse(
        Pattern.compile("<[^>]*\\b(on\\w+|src|href)\\s*=").matcher(lower).find(),
        "an event handler or resource attribute reached the report");
    assertFalse(lower.contains("url(") || lower.contains("@import"), "CSS that loads something");
    assertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
  }

  @Test
  void trainingLogKeepsNumericKeysPerStep() {
    TrainingLog log =
        TrainingLog.parse(
            List.of(
                "{\"step\":1,\"loss\":2.0,\"lr\":1e-5}",
                "",
                "{\"event\":\"started\"}",
                "{\"step\":2,\"eval_loss\":1.5,\"eval_accuracy\":0.7,\"split\":\"validation\"}"),
            "metrics.jsonl");
    assertEquals(List.of(new TrainingLog.Point(1, 2.0)), log.get("loss"));
    assertEquals(List.of(new TrainingLog.Point(2, 0.7)), log.get("eval_accuracy"));
    assertTrue(log.get("split").isEmpty());
  }
}
