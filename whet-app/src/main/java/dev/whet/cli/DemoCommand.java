package dev.whet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.WhetHome;
import dev.whet.eval.Baselines;
import dev.whet.eval.Metrics;
import dev.whet.io.Atomic;
import dev.whet.io.ModelCatalog;
import dev.whet.model.Encoder;
import dev.whet.train.JobConfig;
import dev.whet.train.TrainResult;
import dev.whet.train.Training;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code whet demo}: the whole story on bundled data — how well the base model does without
 * training, fine-tuning, and how well it does after, on examples neither saw.
 */
@Command(
    name = "demo",
    description =
        "Fine-tune the default model on bundled customer-service intents and show before/after.",
    mixinStandardHelpOptions = true)
final class DemoCommand implements Callable<Integer> {
  @Option(
      names = "--epochs",
      defaultValue = "auto",
      description = "Passes over the data (default: ${DEFAULT-VALUE}).")
  String epochs;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description = "Run directory (default: WHET_HOME/runs/run-<time>).")
  String out;

  @Option(names = "--json", description = "Print the comparison as one JSON object at the end.")
  boolean json;

  static final String DATA = "/demo/banking77/";

  @Override
  public Integer call() throws IOException {
    Path dir = WhetHome.root().resolve("demo/banking77");
    for (String split : List.of("train", "val", "test")) {
      try (InputStream in = DemoCommand.class.getResourceAsStream(DATA + split + ".jsonl")) {
        Atomic.write(dir.resolve(split + ".jsonl"), in.readAllBytes());
      }
    }
    List<String[]> train = read(dir.resolve("train.jsonl"));
    List<String[]> test = read(dir.resolve("test.jsonl"));
    List<String> labels = new ArrayList<>(new TreeSet<>(train.stream().map(r -> r[1]).toList()));
    System.err.printf(
        "Whet demo: route customer messages to %d intents (BANKING77, CC-BY-4.0)%n"
            + "  %d training and 200 validation examples, %d held-out test examples, base model %s%n"
            + "  data in %s%n%n",
        labels.size(), train.size(), test.size(), ModelCatalog.DEFAULT, dir);

    System.err.println(
        "1/2 the base model without training its weights (frozen sentence embeddings)");
    int[] trainY = train.stream().mapToInt(r -> labels.indexOf(r[1])).toArray();
    int[] testY = test.stream().mapToInt(r -> labels.indexOf(r[1])).toArray();
    long t0 = System.nanoTime();
    float[][] trainX;
    float[][] testX;
    try (Encoder base = Encoder.load(ModelCatalog.resolve(ModelCatalog.DEFAULT), 0)) {
      trainX = base.embed(train.stream().map(r -> r[0]).toList());
      testX = base.embed(test.stream().map(r -> r[0]).toList());
    }
    int[] centroid = Baselines.nearestCentroid(trainX, trainY, testX, labels.size()).labels();
    int[] probe = Baselines.linearProbe(trainX, trainY, testX, labels.size()).labels();
    System.err.printf(Locale.ROOT, "    done in %.0f s%n%n", (System.nanoTime() - t0) / 1e9);

    System.err.println("2/2 fine-tuning " + ModelCatalog.DEFAULT);
    JobConfig job = new JobConfig();
    job.train = dir.resolve("train.jsonl").toString();
    job.val = dir.resolve("val.jsonl").toString();
    job.test = dir.resolve("test.jsonl").toString();
    job.epochs = epochs;
    job.out = out;
    job.maxLength = 64;
    TrainResult r = Training.start(job, List.of(new ProgressListener()));

    double ftAcc = r.test().get("accuracy");
    double ftF1 = r.test().get("f1_macro");
    List<Object[]> rows =
        List.of(
            new Object[] {
              "base model, nearest centroid",
              Metrics.accuracy(testY, centroid),
              Metrics.f1Macro(testY, centroid, labels.size())
            },
            new Object[] {
              "base model, linear probe",
              Metrics.accuracy(testY, probe),
              Metrics.f1Macro(testY, probe, labels.size())
            },
            new Object[] {"fine-tuned " + ModelCatalog.DEFAULT, ftAcc, ftF1});
    if (json) {
      List<Map<String, Object>> table = new ArrayList<>();
      for (Object[] row : rows) {
        table.add(Map.of("system", row[0], "accuracy", row[1], "f1_macro", row[2]));
      }
      System.out.println(
          Json.line(
              Map.of(
                  "run_dir",
                  r.runDir().toString(),
                  "model_dir",
                  r.modelDir().toString(),
                  "test",
                  table)));
      return 0;
    }
    System.out.printf("%nOn %d held-out test messages:%n%n", test.size());
    System.out.printf("  %-32s %9s %9s%n", "system", "accuracy", "macro-F1");
    for (Object[] row : rows) {
      System.out.printf(Locale.ROOT, "  %-32s %9.3f %9.3f%n", row[0], row[1], row[2]);
    }
    double bestBase = Math.max((double) rows.get(0)[1], (double) rows.get(1)[1]);
    System.out.printf(
        Locale.ROOT,
        "%nFine-tuning changed test accuracy by %+.1f points over the best frozen-embedding baseline,"
            + " in %.0f s of training.%n",
        100 * (ftAcc - bestBase),
        r.trainSeconds());
    System.out.printf(
        "Model saved to %s%nTry it:  ./whet predict %s \"my card still hasn't arrived\"%n",
        r.modelDir(), r.runDir());
    return 0;
  }

  private static List<String[]> read(Path jsonl) throws IOException {
    List<String[]> rows = new ArrayList<>();
    for (String line : java.nio.file.Files.readAllLines(jsonl)) {
      JsonNode n = Json.MAPPER.readTree(line);
      rows.add(new String[] {n.get("text").asText(), n.get("label").asText()});
    }
    return rows;
  }
}
