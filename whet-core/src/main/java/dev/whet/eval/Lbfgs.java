package dev.whet.eval;

/**
 * Limited-memory BFGS with a backtracking (Armijo) line search, enough for the smooth, strictly
 * convex objectives of the baselines.
 */
final class Lbfgs {
  private Lbfgs() {}

  /** A smooth function of a vector. */
  interface Function {
    /** Returns f(x) and writes its gradient into {@code grad}. */
    double valueAndGradient(double[] x, double[] grad);
  }

  private static final int MEMORY = 10;

  /**
   * Minimises {@code f} starting from {@code x}, which is updated in place.
   *
   * @return the number of iterations taken
   */
  static int minimize(Function f, double[] x, double tol, int maxIterations) {
    int n = x.length;
    double[] g = new double[n];
    double fx = f.valueAndGradient(x, g);
    double[][] s = new double[MEMORY][];
    double[][] y = new double[MEMORY][];
    double[] rho = new double[MEMORY];
    double[] alpha = new double[MEMORY];
    int stored = 0;
    int next = 0;
    double[] d = new double[n];
    double[] xNew = new double[n];
    double[] gNew = new double[n];
    int iter = 0;
    while (iter < maxIterations && maxAbs(g) > tol) {
      iter++;
      // Two-loop recursion: d = -H g
      negate(g, d);
      for (int k = 0; k < stored; k++) {
        int m = Math.floorMod(next - 1 - k, MEMORY);
        alpha[m] = rho[m] * Chunks.dot(s[m], d);
        Chunks.axpy(-alpha[m], y[m], d);
      }
      double gamma = 1;
      if (stored > 0) {
        int last = Math.floorMod(next - 1, MEMORY);
        gamma = Chunks.dot(s[last], y[last]) / Chunks.dot(y[last], y[last]);
      } else {
        gamma =
            1 / Math.max(1, Math.sqrt(Chunks.dot(g, g))); // first step: a cautious steepest descent
      }
      double scale = gamma;
      Chunks.forEach(
          n,
          (from, to) -> {
            for (int j = from; j < to; j++) d[j] *= scale;
          });
      for (int k = stored - 1; k >= 0; k--) {
        int m = Math.floorMod(next - 1 - k, MEMORY);
        double beta = rho[m] * Chunks.dot(y[m], d);
        Chunks.axpy(alpha[m] - beta, s[m], d);
      }
      double slope = Chunks.dot(g, d);
      if (slope >= 0) { // not a descent direction (numerical trouble): restart from the gradient
        stored = 0;
        negate(g, d);
        slope = Chunks.dot(g, d);
      }
      double step = 1;
      double fNew;
      while (true) {
        double t = step;
        Chunks.forEach(
            n,
            (from, to) -> {
              for (int j = from; j < to; j++) xNew[j] = x[j] + t * d[j];
            });
        fNew = f.valueAndGradient(xNew, gNew);
        if (fNew <= fx + 1e-4 * step * slope || step < 1e-20) break;
        step *= 0.5;
      }
      // The oldest pair's arrays are reused: with many classes a vector is tens of megabytes.
      if (s[next] == null) {
        s[next] = new double[n];
        y[next] = new double[n];
      }
      double[] sk = s[next];
      double[] yk = y[next];
      Chunks.forEach(
          n,
          (from, to) -> {
            for (int j = from; j < to; j++) {
              sk[j] = xNew[j] - x[j];
              yk[j] = gNew[j] - g[j];
            }
          });
      double sy = Chunks.dot(sk, yk);
      double previous = fx;
      System.arraycopy(xNew, 0, x, 0, n);
      System.arraycopy(gNew, 0, g, 0, n);
      fx = fNew;
      if (sy > 1e-12) { // keep the pair only when it keeps the Hessian estimate positive definite
        rho[next] = 1 / sy;
        next = (next + 1) % MEMORY;
        stored = Math.min(stored + 1, MEMORY);
      } else if (stored == MEMORY) {
        stored--; // the oldest pair's arrays now hold the rejected one: forget it
      }
      if (Math.abs(previous - fx) <= 1e-15 * Math.max(1, Math.abs(fx))) break; // no more progress
    }
    return iter;
  }

  private static void negate(double[] from, double[] into) {
    Chunks.forEach(
        from.length,
        (lo, hi) -> {
          for (int j = lo; j < hi; j++) into[j] = -from[j];
        });
  }

  private static double maxAbs(double[] v) {
    double m = 0;
    for (double e : v) m = Math.max(m, Math.abs(e));
    return m;
  }
}
