package dev.whet.eval;

import dev.whet.engine.Engine;
import dev.whet.io.ModelCatalog;
import dev.whet.model.Encoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Each baseline as it was (fixed settings: TF-IDF word 1–2-grams with C=1, kNN with k=5, the linear
 * probe with C=1) against its tuned form, macro-F1 on a real test set (not a test; figures go to
 * docs/benchmarks.md, issue 17). Embeddings come from the default base model.
 *
 * <pre>
 * mvn -q -pl whet-core test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp whet-core/target/classes:whet-core/target/test-classes:$(cat /tmp/cp.txt) \
 *     dev.whet.eval.TunedBaselinesBench sst2 ../shared/data/sst2 6000
 * java ... dev.whet.eval.TunedBaselinesBench trec ../shared/data/trec
 * java ... dev.whet.eval.TunedBaselinesBench jsonl train.jsonl test.jsonl   # {"text", "label"} lines
 * </pre>
 */
public final class TunedBaselinesBench {
  private TunedBaselinesBench() {}

  record Split(List<String> train, int[] trainY, List<String> test, int[] testY, int classes) {}

  public static void main(String[] args) throws Exception {
    Split s =
        switch (args[0]) {
          case "sst2" -> sst2(Path.of(args[1]), Integer.parseInt(args[2]));
          case "trec" -> trec(Path.of(args[1]));
          case "jsonl" -> jsonl(Path.of(args[1]), Path.of(args[2]));
          default -> throw new IllegalArgumentException("sst2, trec or jsonl");
        };
    System.out.printf(
        "%s: %d train, %d test, %d classes, %s, %d threads%n",
        args[0],
        s.train().size(),
        s.test().size(),
        s.classes(),
        Engine.cpuName(),
        Engine.threads());
    int k = s.classes();
    var texts = new Baselines.TuningData<>(s.train(), s.trainY(), null, null);
    Map<String, Double> f1 = new LinkedHashMap<>();
    run(
        "tfidf_logreg before (word 1-2-grams, C=1)",
        s,
        () ->
            new Baselines.Tuned(
                Baselines.tfidfLogReg(s.train(), s.trainY(), s.test(), k), "fixed"));
    run("tfidf_logreg tuned", s, () -> Baselines.tunedTfidfLogReg(texts, s.test(), k, false));
    run("tfidf_char_logreg tuned", s, () -> Baselines.tunedTfidfLogReg(texts, s.test(), k, true));
    float[][] trainX;
    float[][] testX;
    long t = System.nanoTime();
    try (Encoder e = Encoder.load(ModelCatalog.resolve(ModelCatalog.DEFAULT), 128)) {
      trainX = e.embed(s.train());
      testX = e.embed(s.test());
    }
    System.out.printf("embeddings: %.1f s%n", (System.nanoTime() - t) / 1e9);
    var emb = new Baselines.TuningData<>(trainX, s.trainY(), null, null);
    run(
        "knn before (k=5)",
        s,
        () -> new Baselines.Tuned(Baselines.knn(trainX, s.trainY(), testX, k, 5), "fixed"));
    run("knn tuned", s, () -> Baselines.tunedKnn(emb, testX, k));
    run(
        "linear_probe before (C=1)",
        s,
        () -> new Baselines.Tuned(Baselines.linearProbe(trainX, s.trainY(), testX, k), "fixed"));
    run("linear_probe tuned", s, () -> Baselines.tunedLinearProbe(emb, testX, k));
  }

  private static void run(String name, Split s, java.util.function.Supplier<Baselines.Tuned> f) {
    long t = System.nanoTime();
    Baselines.Tuned r = f.get();
    System.out.printf(
        "%-42s macro-F1 %.4f  accuracy %.4f  %6.1f s  %s%n",
        name,
        Metrics.f1Macro(s.testY(), r.predictions().labels(), s.classes()),
        Metrics.accuracy(s.testY(), r.predictions().labels()),
        (System.nanoTime() - t) / 1e9,
        r.setting());
  }

  /** SST-2: the first {@code n} rows of train.tsv to train on, dev.tsv (872) to test. */
  static Split sst2(Path dir, int n) throws Exception {
    List<String> train = new ArrayList<>(), test = new ArrayList<>();
    List<Integer> ytr = new ArrayList<>(), yte = new ArrayList<>();
    List<String> lines = Files.readAllLines(dir.resolve("train.tsv"));
    for (int i = 1; i < lines.size() && train.size() < n; i++) {
      String[] p = lines.get(i).split("\t");
      train.add(p[0]);
      ytr.add(Integer.parseInt(p[1].trim()));
    }
    lines = Files.readAllLines(dir.resolve("dev.tsv"));
    for (int i = 1; i < lines.size(); i++) {
      String[] p = lines.get(i).split("\t");
      test.add(p[0]);
      yte.add(Integer.parseInt(p[1].trim()));
    }
    return new Split(train, ints(ytr), test, ints(yte), 2);
  }

  /** TREC question classification, six coarse classes: train_5500 to train, TREC_10 to test. */
  static Split trec(Path dir) throws Exception {
    List<String> classes = new ArrayList<>();
    List<String> train = new ArrayList<>(), test = new ArrayList<>();
    List<Integer> ytr = new ArrayList<>(), yte = new ArrayList<>();
    read(dir.resolve("train_5500.label"), classes, train, ytr);
    read(dir.resolve("TREC_10.label"), classes, test, yte);
    return new Split(train, ints(ytr), test, ints(yte), classes.size());
  }

  /** {@code {"text", "label"}} lines (as scripts/make-fewshot.py writes them). */
  static Split jsonl(Path trainFile, Path testFile) throws Exception {
    List<String> classes = new ArrayList<>();
    List<String> train = new ArrayList<>(), test = new ArrayList<>();
    List<Integer> ytr = new ArrayList<>(), yte = new ArrayList<>();
    for (var f : List.of(Map.entry(trainFile, train), Map.entry(testFile, test))) {
      List<Integer> y = f.getValue() == train ? ytr : yte;
      for (String line : Files.readAllLines(f.getKey())) {
        if (line.isBlank()) continue;
        var row = dev.whet.io.Json.MAPPER.readTree(line);
        String label = row.get("label").asText();
        if (!classes.contains(label)) classes.add(label);
        f.getValue().add(row.get("text").asText());
        y.add(classes.indexOf(label));
      }
    }
    return new Split(train, ints(ytr), test, ints(yte), classes.size());
  }

  private static void read(Path file, List<String> classes, List<String> texts, List<Integer> y)
      throws Exception {
    for (String line : Files.readAllLines(file, java.nio.charset.StandardCharsets.ISO_8859_1)) {
      if (line.isBlank()) continue;
      String label = line.substring(0, line.indexOf(':'));
      if (!classes.contains(label)) classes.add(label);
      texts.add(line.substring(line.indexOf(' ') + 1));
      y.add(classes.indexOf(label));
    }
  }

  private static int[] ints(List<Integer> xs) {
    return xs.stream().mapToInt(Integer::intValue).toArray();
  }
}
