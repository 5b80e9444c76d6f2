package dev.whet.eval;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The table behind {@code whet compare RUN_A RUN_B ...}: every run scored on the same test set,
 * best macro F1 first, each with its interval and its paired difference to the best.
 *
 * @param n number of test examples
 * @param rows one per run, best first
 */
public record ModelComparison(int n, List<Row> rows) {

  /** What the caller knows about a run besides its predictions (NaN / -1 when unknown). */
  public record RunInfo(
      String run,
      String baseModel,
      String method,
      long parameters,
      long trainableParameters,
      double trainingSeconds,
      double latencyMillis,
      long sizeBytes) {}

  /**
   * One run's line.
   *
   * @param f1Macro macro F1 with its bootstrap interval
   * @param accuracy accuracy with its bootstrap interval
   * @param differenceToBest paired interval of {@code this - best} on macro F1 (zero for the best)
   * @param clearlyWorse true when that interval lies wholly below zero
   */
  public record Row(
      RunInfo info,
      Interval f1Macro,
      Interval accuracy,
      Interval differenceToBest,
      boolean clearlyWorse) {}

  /**
   * Scores every run's predictions on the same gold labels.
   *
   * @param gold gold label per test example
   * @param classes number of classes
   * @param runs what is known about each run
   * @param predictions predicted labels of each run, same order as {@code runs}
   */
  public static ModelComparison of(
      int[] gold, int classes, List<RunInfo> runs, List<int[]> predictions) {
    if (runs.size() != predictions.size() || runs.isEmpty()) {
      throw new IllegalArgumentException("need one prediction array per run, at least one run");
    }
    Bootstrap boot = new Bootstrap();
    int n = gold.length;
    List<Interval> f1 = new ArrayList<>();
    for (int[] pred : predictions) {
      f1.add(boot.interval(n, Bootstrap.SampleMetric.f1Macro(gold, pred, classes)));
    }
    int best = 0;
    for (int i = 1; i < runs.size(); i++) {
      if (f1.get(i).estimate() > f1.get(best).estimate()) best = i;
    }
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < runs.size(); i++) {
      Interval diff =
          i == best
              ? new Interval(0, 0, 0)
              : boot.difference(
                  n,
                  Bootstrap.SampleMetric.f1Macro(gold, predictions.get(i), classes),
                  Bootstrap.SampleMetric.f1Macro(gold, predictions.get(best), classes));
      Interval acc = boot.interval(n, Bootstrap.SampleMetric.accuracy(gold, predictions.get(i)));
      rows.add(new Row(runs.get(i), f1.get(i), acc, diff, diff.high() < 0));
    }
    rows.sort(Comparator.comparingDouble((Row r) -> r.f1Macro().estimate()).reversed());
    return new ModelComparison(n, rows);
  }

  /** A plain-text table for the terminal, with a one-line conclusion. */
  public String toTable() {
    List<String[]> cells = new ArrayList<>();
    cells.add(
        new String[] {
          "run",
          "base model",
          "method",
          "macro F1 [95% CI]",
          "vs best (pts)",
          "accuracy",
          "params",
          "trainable",
          "train s",
          "latency ms",
          "size MB"
        });
    for (Row r : rows) {
      RunInfo i = r.info();
      cells.add(
          new String[] {
            i.run(),
            String.valueOf(i.baseModel()),
            String.valueOf(i.method()),
            fmt("%.3f [%.3f, %.3f]", r.f1Macro().estimate(), r.f1Macro().low(), r.f1Macro().high()),
            r.differenceToBest().high() == 0 && r.differenceToBest().low() == 0
                ? "best"
                : fmt(
                    "%+.1f [%+.1f, %+.1f]",
                    100 * r.differenceToBest().estimate(),
                    100 * r.differenceToBest().low(),
                    100 * r.differenceToBest().high()),
            fmt("%.3f", r.accuracy().estimate()),
            count(i.parameters()),
            count(i.trainableParameters()),
            Double.isNaN(i.trainingSeconds()) ? "-" : fmt("%.0f", i.trainingSeconds()),
            Double.isNaN(i.latencyMillis()) ? "-" : fmt("%.1f", i.latencyMillis()),
            i.sizeBytes() < 0 ? "-" : fmt("%.1f", i.sizeBytes() / 1e6)
          });
    }
    int[] width = new int[cells.get(0).length];
    for (String[] row : cells) {
      for (int c = 0; c < row.length; c++) width[c] = Math.max(width[c], row[c].length());
    }
    StringBuilder b = new StringBuilder();
    for (String[] row : cells) {
      for (int c = 0; c < row.length; c++) {
        b.append(String.format(Locale.ROOT, "%-" + width[c] + "s", row[c]));
        b.append(c + 1 < row.length ? "  " : "\n");
      }
    }
    long tied = rows.stream().skip(1).filter(r -> !r.clearlyWorse()).count();
    b.append(
        tied == 0
            ? "Best: " + rows.get(0).info().run() + ", clearly ahead of every other run.\n"
            : "Best estimate: "
                + rows.get(0).info().run()
                + ", but "
                + tied
                + " other run(s) are within its 95% interval: prefer the cheapest of those.\n");
    return b.toString();
  }

  private static String count(long v) {
    if (v < 0) return "-";
    if (v >= 1_000_000) return fmt("%.1fM", v / 1e6);
    if (v >= 1_000) return fmt("%.1fk", v / 1e3);
    return Long.toString(v);
  }

  private static String fmt(String f, Object... args) {
    return String.format(Locale.ROOT, f, args);
  }
}
