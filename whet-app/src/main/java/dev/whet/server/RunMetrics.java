package dev.whet.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A run's metrics.jsonl as one row per step, in the service's names: {@code train_loss}, {@code
 * learning_rate}, {@code valid_<metric>}. A step logged twice (a run resumed from a checkpoint
 * before it) keeps its last values, which are the ones the final model went through.
 */
final class RunMetrics {
  private RunMetrics() {}

  static TreeMap<Long, Map<String, Object>> read(Path runDir) {
    TreeMap<Long, Map<String, Object>> rows = new TreeMap<>();
    Path file = runDir.resolve("metrics.jsonl");
    if (!Files.isRegularFile(file)) {
      return rows;
    }
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (String line : lines) {
      JsonNode n = Http.tree(line.isBlank() ? "null" : line);
      if (n == null || !n.has("step")) {
        continue; // a line cut short by a crash
      }
      Map<String, Object> row =
          rows.computeIfAbsent(n.get("step").asLong(), s -> new LinkedHashMap<>());
      n.fields()
          .forEachRemaining(
              e -> {
                String k = e.getKey();
                String name =
                    switch (k) {
                      case "loss" -> "train_loss";
                      case "lr" -> "learning_rate";
                      default -> k.startsWith("eval_") ? "valid_" + k.substring(5) : k;
                    };
                row.put(name, e.getValue().isNumber() ? e.getValue().numberValue() : null);
              });
    }
    return rows;
  }

  /** The rows as CSV: a header with every column seen, then one line per step. */
  static String csv(TreeMap<Long, Map<String, Object>> rows) {
    List<String> columns = new ArrayList<>(List.of("step"));
    rows.values()
        .forEach(r -> r.keySet().stream().filter(k -> !columns.contains(k)).forEach(columns::add));
    StringBuilder s = new StringBuilder(String.join(",", columns)).append('\n');
    for (Map<String, Object> r : rows.values()) {
      List<String> cells = new ArrayList<>();
      for (String c : columns) {
        Object v = r.get(c);
        cells.add(v == null ? "" : String.format(Locale.ROOT, "%s", v));
      }
      s.append(String.join(",", cells)).append('\n');
    }
    return s.toString();
  }
}
