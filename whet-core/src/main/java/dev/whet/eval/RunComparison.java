package dev.whet.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.WhetException;
import dev.whet.data.ClassificationExample;
import dev.whet.io.Json;
import dev.whet.model.ClassifierModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * {@code whet compare}: scores several fine-tuned models (different bases or methods) on one test
 * set and gathers what each costs, for {@link ModelComparison}'s table.
 */
public final class RunComparison {
  private RunComparison() {}

  /**
   * @param models (model directory, run directory or null) pairs
   */
  public static ModelComparison compare(List<Path[]> models, Path data, Consumer<String> log) {
    List<ModelComparison.RunInfo> infos = new ArrayList<>();
    List<int[]> predictions = new ArrayList<>();
    List<String> labels = null;
    int[] gold = null;
    for (Path[] m : models) {
      Path modelDir = m[0];
      Path runDir = m[1];
      log.accept("evaluating " + (runDir != null ? runDir : modelDir));
      try (ClassifierModel model = ClassifierModel.load(modelDir)) {
        if (labels == null) {
          labels = model.labels();
          List<ClassificationExample> test =
              RunEvaluation.examples(data, RunEvaluation.options(model.task(), runDir));
          gold = RunEvaluation.indices(test, labels, data);
          predictions.add(RunEvaluation.argmax(RunEvaluation.predict(model, test)));
        } else if (!labels.equals(model.labels())) {
          throw new WhetException(
              modelDir
                  + ": its labels "
                  + model.labels()
                  + " differ from the first model's "
                  + labels
                  + "; compare models of one task");
        } else {
          List<ClassificationExample> test =
              RunEvaluation.examples(data, RunEvaluation.options(model.task(), runDir));
          predictions.add(RunEvaluation.argmax(RunEvaluation.predict(model, test)));
        }
        JsonNode info = whetJson(modelDir);
        infos.add(
            new ModelComparison.RunInfo(
                String.valueOf(runDir != null ? runDir.getFileName() : modelDir),
                info.path("base").asText("?"),
                info.path("method").asText("?"),
                info.path("total_parameters").asLong(-1),
                info.path("trainable_parameters").asLong(-1),
                info.path("train_seconds").asDouble(Double.NaN),
                latencyMs(model),
                size(modelDir)));
      }
    }
    return ModelComparison.of(gold, labels.size(), infos, predictions);
  }

  /** Median latency of classifying one short text at a time, after a warm-up. */
  static double latencyMs(ClassifierModel model) {
    List<String> probe = List.of("where is my card?");
    for (int i = 0; i < 5; i++) {
      model.predict(probe, null);
    }
    double[] t = new double[21];
    for (int i = 0; i < t.length; i++) {
      long t0 = System.nanoTime();
      model.predict(probe, null);
      t[i] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(t);
    return t[t.length / 2];
  }

  static long size(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    } catch (IOException e) {
      throw new WhetException(dir + ": cannot measure its size (" + e.getMessage() + ")", e);
    }
  }

  private static JsonNode whetJson(Path modelDir) {
    try {
      return Json.MAPPER.readTree(modelDir.resolve("whet.json").toFile());
    } catch (IOException e) {
      throw new WhetException(
          modelDir.resolve("whet.json") + ": unreadable (" + e.getMessage() + ")", e);
    }
  }
}
