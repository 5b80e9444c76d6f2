package dev.whet.eval;

import java.util.stream.IntStream;

/**
 * Passes over long vectors split into fixed-size chunks worked on by every core: L-BFGS over the
 * weights of a TF-IDF regression (n-grams × classes, millions of doubles) spends most of its time
 * in such passes, which one core alone leaves memory bandwidth and arithmetic unused for. The
 * chunks do not depend on the number of cores, and sums add the chunks' parts in order, so the
 * results are the same bits on any machine.
 */
final class Chunks {
  private Chunks() {}

  /** Elements per chunk: large enough that a chunk outweighs handing it to another thread. */
  static final int SIZE = 1 << 15;

  /** Work on elements {@code from} (inclusive) to {@code to} (exclusive). */
  interface Range {
    void apply(int from, int to);
  }

  /** A value computed from elements {@code from} to {@code to}. */
  interface RangeSum {
    double apply(int from, int to);
  }

  /** Runs {@code f} over 0..n in chunks, in parallel when there is more than one. */
  static void forEach(int n, Range f) {
    int chunks = count(n);
    if (chunks <= 1) {
      f.apply(0, n);
      return;
    }
    IntStream.range(0, chunks)
        .parallel()
        .forEach(c -> f.apply(c * SIZE, Math.min(n, (c + 1) * SIZE)));
  }

  /** The sum of {@code f} over 0..n's chunks, added in chunk order. */
  static double sum(int n, RangeSum f) {
    int chunks = count(n);
    if (chunks <= 1) {
      return f.apply(0, n);
    }
    double[] part = new double[chunks];
    IntStream.range(0, chunks)
        .parallel()
        .forEach(c -> part[c] = f.apply(c * SIZE, Math.min(n, (c + 1) * SIZE)));
    double s = 0;
    for (double p : part) s += p;
    return s;
  }

  /** {@code a · b}. */
  static double dot(double[] a, double[] b) {
    return sum(a.length, (from, to) -> Baselines.dot(a, b, from, to));
  }

  /** {@code y += alpha x}. */
  static void axpy(double alpha, double[] x, double[] y) {
    forEach(
        x.length,
        (from, to) -> {
          for (int j = from; j < to; j++) y[j] += alpha * x[j];
        });
  }

  private static int count(int n) {
    return (n + SIZE - 1) / SIZE;
  }
}
