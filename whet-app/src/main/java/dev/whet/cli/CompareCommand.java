package dev.whet.cli;

import dev.whet.eval.ModelComparison;
import dev.whet.eval.RunComparison;
import dev.whet.io.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code whet compare}: one table across fine-tuned runs on the same test set. */
@Command(
    name = "compare",
    description =
        "Compare fine-tuned runs on one test set: metric with interval, size, speed, cost.",
    mixinStandardHelpOptions = true)
final class CompareCommand implements Callable<Integer> {
  @Parameters(
      arity = "2..*",
      paramLabel = "RUN",
      description = "Runs (or model directories) to compare.")
  List<String> runs;

  @Option(
      names = "--data",
      required = true,
      paramLabel = "FILE",
      description = "Labelled test examples.")
  Path data;

  @Option(names = "--json", description = "Print the table as one JSON object.")
  boolean json;

  @Override
  public Integer call() {
    List<Path[]> models = new ArrayList<>();
    for (String r : runs) {
      Path modelDir = PredictCommand.modelDir(r);
      Path runDir = PredictCommand.runDirOf(modelDir);
      models.add(new Path[] {modelDir, runDir});
    }
    ModelComparison table = RunComparison.compare(models, data, System.err::println);
    if (json) {
      List<Map<String, Object>> out = new ArrayList<>();
      for (ModelComparison.Row row : table.rows()) {
        ModelComparison.RunInfo info = row.info();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("run", info.run());
        m.put("base", info.baseModel());
        m.put("method", info.method());
        m.put("f1_macro", row.f1Macro().estimate());
        m.put("f1_macro_interval", List.of(row.f1Macro().low(), row.f1Macro().high()));
        m.put("accuracy", row.accuracy().estimate());
        m.put("accuracy_interval", List.of(row.accuracy().low(), row.accuracy().high()));
        m.put(
            "difference_to_best",
            List.of(row.differenceToBest().low(), row.differenceToBest().high()));
        m.put("clearly_worse", row.clearlyWorse());
        m.put("parameters", info.parameters());
        m.put("trainable_parameters", info.trainableParameters());
        m.put("train_seconds", info.trainingSeconds());
        m.put("latency_ms", info.latencyMillis());
        m.put("size_bytes", info.sizeBytes());
        out.add(m);
      }
      System.out.println(Json.line(Map.of("data", data.toString(), "n", table.n(), "runs", out)));
      return 0;
    }
    System.out.printf("%d test examples; best macro-F1 first%n%n", table.n());
    System.out.printf(
        "%-24s %-14s %-7s %-22s %-7s %-18s %9s %10s %8s %8s %8s%n",
        "run",
        "base",
        "method",
        "macro-F1 [95% CI]",
        "acc",
        "vs best [95% CI]",
        "params",
        "trainable",
        "train s",
        "ms/text",
        "MB");
    for (ModelComparison.Row r : table.rows()) {
      ModelComparison.RunInfo i = r.info();
      System.out.printf(
          Locale.ROOT,
          "%-24s %-14s %-7s %.3f [%.3f,%.3f]   %.3f  %+.3f,%+.3f%s %8.1fM %9.2fM %8.0f %8.1f %8.1f%n",
          i.run(),
          i.baseModel(),
          i.method(),
          r.f1Macro().estimate(),
          r.f1Macro().low(),
          r.f1Macro().high(),
          r.accuracy().estimate(),
          r.differenceToBest().low(),
          r.differenceToBest().high(),
          r.clearlyWorse() ? " worse" : "      ",
          i.parameters() / 1e6,
          i.trainableParameters() / 1e6,
          i.trainingSeconds(),
          i.latencyMillis(),
          i.sizeBytes() / 1e6);
    }
    return 0;
  }
}
