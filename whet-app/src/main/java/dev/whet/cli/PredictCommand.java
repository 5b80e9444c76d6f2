package dev.whet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.WhetException;
import dev.whet.io.Json;
import dev.whet.model.ClassifierModel;
import dev.whet.model.ModelRef;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code whet predict}: labels and probabilities from a fine-tuned classifier. */
@Command(
    name = "predict",
    description = "Classify texts with a fine-tuned model (a run or its model directory).",
    mixinStandardHelpOptions = true)
final class PredictCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      paramLabel = "RUN|MODEL_DIR",
      description = "A run directory or id, or a saved model directory.")
  String model;

  @Parameters(
      index = "1..*",
      arity = "0..*",
      paramLabel = "TEXT",
      description = "Texts to classify.")
  List<String> texts = new ArrayList<>();

  @Option(
      names = "--file",
      paramLabel = "IN.jsonl",
      description = "Classify each line's \"text\" (and \"text_pair\") field.")
  Path file;

  @Option(
      names = "--out",
      paramLabel = "OUT.jsonl",
      description = "Where --file results go (one object per input line).")
  Path out;

  @Option(names = "--json", description = "Print one JSON object per text.")
  boolean json;

  static final int CHUNK = 256;

  @Override
  public Integer call() throws IOException {
    if (file == null && texts.isEmpty()) {
      throw new WhetException("give texts to classify, or --file IN.jsonl --out OUT.jsonl");
    }
    if (file != null && out == null) {
      throw new WhetException("--file needs --out OUT.jsonl for the results");
    }
    try (ClassifierModel classifier = ClassifierModel.load(modelDir(model))) {
      if (file != null) {
        predictFile(classifier);
        return 0;
      }
      float[][] probs = classifier.predict(texts, null);
      for (int i = 0; i < texts.size(); i++) {
        Map<String, Object> row = result(classifier, probs[i]);
        if (json) {
          row.put("text", texts.get(i));
          System.out.println(Json.line(row));
        } else {
          System.out.printf(Locale.ROOT, "%s\t%s%n", row.get("label"), texts.get(i));
          @SuppressWarnings("unchecked")
          Map<String, Double> p = (Map<String, Double>) row.get("probs");
          p.entrySet().stream()
              .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
              .limit(3)
              .forEach(
                  e -> System.out.printf(Locale.ROOT, "  %.4f  %s%n", e.getValue(), e.getKey()));
        }
      }
      return 0;
    }
  }

  /** A run directory's model/, a run id under WHET_HOME/runs, or a model directory itself. */
  static Path modelDir(String runOrDir) {
    ModelRef ref;
    try {
      ref = ModelRef.resolve(runOrDir);
    } catch (WhetException e) {
      ref = null;
    }
    if (ref == null || ref.kind() != ModelRef.Kind.CLASSIFIER) {
      throw new WhetException(
          runOrDir + ": neither a run directory nor a classifier saved by `whet train`");
    }
    return ref.dir();
  }

  /** The run a model directory belongs to (where eval/ goes), or null for a bare model. */
  static Path runDirOf(Path modelDir) {
    return ModelRef.runOf(modelDir);
  }

  private static Map<String, Object> result(ClassifierModel c, float[] probs) {
    Map<String, Double> p = new LinkedHashMap<>();
    int best = 0;
    for (int j = 0; j < probs.length; j++) {
      p.put(c.labels().get(j), (double) probs[j]);
      best = probs[j] > probs[best] ? j : best;
    }
    Map<String, Object> row = new LinkedHashMap<>();
    if (c.multiLabel()) {
      List<String> on = new ArrayList<>();
      for (int j = 0; j < probs.length; j++) {
        if (probs[j] >= 0.5f) {
          on.add(c.labels().get(j));
        }
      }
      row.put("label", on);
    } else {
      row.put("label", c.labels().get(best));
    }
    row.put("probs", p);
    return row;
  }

  /** Streams the input in chunks, writing results to a temp file renamed at the end. */
  private void predictFile(ClassifierModel classifier) throws IOException {
    long total;
    try (var lines = Files.lines(file, StandardCharsets.UTF_8)) {
      total = lines.filter(l -> !l.isBlank()).count();
    }
    Path tmp = out.toAbsolutePath().resolveSibling("." + out.getFileName() + ".tmp");
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8);
        ProgressBar bar =
            new ProgressBarBuilder()
                .setTaskName("predict")
                .setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII)
                .setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err, 110))
                .showSpeed()
                .build()) {
      List<String> chunk = new ArrayList<>();
      List<String> pairs = new ArrayList<>();
      int lineNo = 0;
      boolean anyPair = false;
      for (String line; (line = in.readLine()) != null; ) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode node;
        try {
          node = Json.MAPPER.readTree(line);
        } catch (IOException e) {
          throw new WhetException(
              file
                  + ":"
                  + lineNo
                  + ": invalid JSON — each line must be an object with a \"text\" field");
        }
        if (!node.path("text").isTextual()) {
          throw new WhetException(
              file + ":" + lineNo + ": field \"text\" is missing or not a string");
        }
        chunk.add(node.get("text").asText());
        anyPair |= node.path("text_pair").isTextual();
        pairs.add(node.path("text_pair").asText(""));
        if (chunk.size() == CHUNK) {
          flush(classifier, chunk, anyPair ? pairs : null, w);
          bar.stepBy(CHUNK);
          chunk.clear();
          pairs.clear();
        }
      }
      bar.stepBy(chunk.size());
      flush(classifier, chunk, anyPair ? pairs : null, w);
    } catch (RuntimeException | IOException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    System.err.println("wrote " + total + " predictions to " + out);
  }

  private static void flush(
      ClassifierModel c, List<String> texts, List<String> pairs, BufferedWriter w)
      throws IOException {
    if (texts.isEmpty()) {
      return;
    }
    float[][] probs = c.predict(texts, pairs);
    for (float[] p : probs) {
      w.write(Json.line(result(c, p)));
      w.newLine();
    }
  }
}
