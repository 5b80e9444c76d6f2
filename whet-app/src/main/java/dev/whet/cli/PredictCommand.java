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

/**
 * {@code whet predict}: labels and probabilities from a fine-tuned classifier, or entities (and
 * tags per word) from a token classifier.
 */
@Command(
    name = "predict",
    description =
        "Classify texts, or extract their entities, with a fine-tuned model (a run or its model"
            + " directory).",
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
      description =
          "Classify each line's \"text\" (and \"text_pair\") field; a token classifier tags"
              + " \"text\" or the words of \"tokens\".")
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
      if (classifier.module().perToken()) {
        printEntities(classifier.tag(texts, null));
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

  private void printEntities(List<ClassifierModel.Tagged> tagged) {
    for (int i = 0; i < texts.size(); i++) {
      ClassifierModel.Tagged t = tagged.get(i);
      if (json) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("text", texts.get(i));
        row.put("entities", t.entities());
        System.out.println(Json.line(row));
        continue;
      }
      System.out.println(texts.get(i));
      if (t.entities().isEmpty()) {
        System.out.println("  (no entities)");
      }
      for (ClassifierModel.Span e : t.entities()) {
        System.out.printf(
            Locale.ROOT,
            "  %-14s %-30s %d-%d  %.4f%n",
            e.type(),
            e.text(),
            e.start(),
            e.end(),
            e.score());
      }
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
    if (ref == null
        || (ref.kind() != ModelRef.Kind.CLASSIFIER && ref.kind() != ModelRef.Kind.TAGGER)) {
      throw new WhetException(
          runOrDir
              + ": neither a run directory nor a classifier or token classifier saved by `whet"
              + " train`");
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
      List<JsonNode> chunk = new ArrayList<>();
      int lineNo = 0;
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
        boolean words = classifier.module().perToken() && node.path("tokens").isArray();
        if (!words && !node.path("text").isTextual()) {
          throw new WhetException(
              file
                  + ":"
                  + lineNo
                  + (classifier.module().perToken()
                      ? ": neither a \"text\" string nor a \"tokens\" list of words"
                      : ": field \"text\" is missing or not a string"));
        }
        chunk.add(node);
        if (chunk.size() == CHUNK) {
          flush(classifier, chunk, w);
          bar.stepBy(CHUNK);
          chunk.clear();
        }
      }
      bar.stepBy(chunk.size());
      flush(classifier, chunk, w);
    } catch (RuntimeException | IOException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    System.err.println("wrote " + total + " predictions to " + out);
  }

  private static void flush(ClassifierModel c, List<JsonNode> lines, BufferedWriter w)
      throws IOException {
    if (lines.isEmpty()) {
      return;
    }
    List<String> texts = new ArrayList<>();
    List<Map<String, Object>> rows = new ArrayList<>();
    if (c.module().perToken()) {
      // Lines with "tokens" keep their words (and get a tag per word); others are split.
      List<List<String>> words = new ArrayList<>();
      for (JsonNode n : lines) {
        List<String> ws = new ArrayList<>();
        n.path("tokens").forEach(t -> ws.add(t.asText()));
        words.add(n.path("tokens").isArray() ? ws : null);
        texts.add(n.path("tokens").isArray() ? String.join(" ", ws) : n.get("text").asText());
      }
      List<ClassifierModel.Tagged> tagged = c.tag(texts, words);
      for (int i = 0; i < lines.size(); i++) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("entities", tagged.get(i).entities());
        if (words.get(i) != null) {
          row.put("tags", tagged.get(i).tags());
        }
        rows.add(row);
      }
    } else {
      List<String> pairs = new ArrayList<>();
      boolean anyPair = false;
      for (JsonNode n : lines) {
        texts.add(n.get("text").asText());
        anyPair |= n.path("text_pair").isTextual();
        pairs.add(n.path("text_pair").asText(""));
      }
      for (float[] p : c.predict(texts, anyPair ? pairs : null)) {
        rows.add(result(c, p));
      }
    }
    for (Map<String, Object> row : rows) {
      w.write(Json.line(row));
      w.newLine();
    }
  }
}
