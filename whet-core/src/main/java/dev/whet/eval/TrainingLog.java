package dev.whet.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.WhetException;
import dev.whet.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The curves of a run, read from its metrics.jsonl: one JSON object per line with {@code step} and
 * numbers such as {@code loss}, {@code lr}, {@code eval_loss}, {@code eval_accuracy}, {@code
 * eval_f1_macro}. Each numeric key becomes a series of (step, value) points; lines without a
 * numeric {@code step} are skipped.
 *
 * @param series points per key, in file order
 */
public record TrainingLog(Map<String, List<Point>> series) {
  /** One logged value. */
  public record Point(double step, double value) {}

  /** An empty log (no training run, e.g. when a model directory is evaluated). */
  public static TrainingLog empty() {
    return new TrainingLog(Map.of());
  }

  /** Reads metrics.jsonl; a missing file gives an empty log. */
  public static TrainingLog read(Path metricsJsonl) {
    if (!Files.exists(metricsJsonl)) return empty();
    try {
      return parse(Files.readAllLines(metricsJsonl), metricsJsonl.toString());
    } catch (IOException e) {
      throw new WhetException("cannot read " + metricsJsonl + ": " + e.getMessage(), e);
    }
  }

  /** Parses metrics.jsonl lines; {@code source} names the file in error messages. */
  public static TrainingLog parse(List<String> lines, String source) {
    ObjectMapper json = Json.MAPPER;
    Map<String, List<Point>> series = new LinkedHashMap<>();
    int lineNo = 0;
    for (String line : lines) {
      lineNo++;
      if (line.isBlank()) continue;
      JsonNode row;
      try {
        row = json.readTree(line);
      } catch (IOException e) {
        throw new WhetException(source + ":" + lineNo + ": not a JSON object: " + e.getMessage());
      }
      JsonNode step = row.get("step");
      if (step == null || !step.isNumber()) continue;
      for (Iterator<Map.Entry<String, JsonNode>> it = row.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> f = it.next();
        if (f.getKey().equals("step") || !f.getValue().isNumber()) continue;
        series
            .computeIfAbsent(f.getKey(), k -> new ArrayList<>())
            .add(new Point(step.asDouble(), f.getValue().asDouble()));
      }
    }
    return new TrainingLog(series);
  }

  /** Points of one key, empty when never logged. */
  public List<Point> get(String key) {
    return series.getOrDefault(key, List.of());
  }
}
