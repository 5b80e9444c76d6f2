package dev.whet.eval;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Times the baselines at realistic size (not a test; figures go to docs/benchmarks.md). Reads an
 * SST-2 style TSV ({@code sentence<TAB>label} with a header): every fifth row of the first 12,000
 * is test, the rest train; bench_sklearn.py in src/test/resources/eval does the same in
 * scikit-learn.
 *
 * <pre>
 * mvn -q -pl whet-core test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp whet-core/target/classes:whet-core/target/test-classes:$(cat /tmp/cp.txt) \
 *     dev.whet.eval.BaselinesBench path/to/sst2/train.tsv
 * </pre>
 */
public final class BaselinesBench {
  private BaselinesBench() {}

  public static void main(String[] args) throws Exception {
    List<String> lines = Files.readAllLines(Path.of(args[0]));
    List<String> train = new ArrayList<>(), test = new ArrayList<>();
    List<Integer> yTrain = new ArrayList<>(), yTest = new ArrayList<>();
    for (int i = 1; i < lines.size() && i <= 12_000; i++) {
      String[] p = lines.get(i).split("\t");
      (i % 5 == 0 ? test : train).add(p[0]);
      (i % 5 == 0 ? yTest : yTrain).add(Integer.parseInt(p[1].trim()));
    }
    int[] ytr = yTrain.stream().mapToInt(Integer::intValue).toArray();
    int[] yte = yTest.stream().mapToInt(Integer::intValue).toArray();
    long t = System.nanoTime();
    Baselines.Predictions p = Baselines.tfidfLogReg(train, ytr, test, 2);
    System.out.printf(
        "tfidf_logreg: %d train, %d test, %.2f s, accuracy %.4f%n",
        train.size(),
        test.size(),
        (System.nanoTime() - t) / 1e9,
        Metrics.accuracy(yte, p.labels()));

    // Frozen-embedding baselines at the default model's width: 10k x 384, 20 classes, 2k test.
    Random r = new Random(1);
    float[][] e = new float[12_000][384];
    int[] y = new int[e.length];
    for (int i = 0; i < e.length; i++) {
      y[i] = r.nextInt(20);
      for (int j = 0; j < 384; j++)
        e[i][j] = (float) (r.nextGaussian() + (j % 20 == y[i] ? 0.5 : 0));
    }
    float[][] etr = Arrays.copyOf(e, 10_000);
    float[][] ete = Arrays.copyOfRange(e, 10_000, 12_000);
    int[] ytr2 = Arrays.copyOf(y, 10_000);
    t = System.nanoTime();
    Baselines.knn(etr, ytr2, ete, 20, Baselines.DEFAULT_K);
    System.out.printf("knn: 10000 x 2000 x 384: %.2f s%n", (System.nanoTime() - t) / 1e9);
    t = System.nanoTime();
    Baselines.linearProbe(etr, ytr2, ete, 20);
    System.out.printf(
        "linear_probe: 10000 x 384, 20 classes: %.2f s%n", (System.nanoTime() - t) / 1e9);
  }
}
