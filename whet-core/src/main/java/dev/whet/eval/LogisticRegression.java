package dev.whet.eval;

import dev.whet.engine.Engine;
import dev.whet.engine.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * L2-regularised logistic regression fitted with L-BFGS, the same model as scikit-learn's {@code
 * LogisticRegression(C=1.0)} with its default lbfgs solver: a single sigmoid for two classes,
 * multinomial softmax for more; the intercept is not penalised. It minimises {@code C * sum_i
 * loss_i + ||W||^2 / 2} (here divided by n, which leaves the optimum unchanged).
 *
 * <p>Used as the linear probe on frozen embeddings and on TF-IDF features. Unlike scikit-learn's
 * default {@code tol=1e-4, max_iter=100} it runs to a tight optimum, so agreement with scikit-learn
 * is checked against a tightly converged scikit-learn fit.
 */
public final class LogisticRegression {
  private final int classes; // all classes the caller knows
  private final int[]
      present; // model output o -> class index (classes absent from training get p=0)
  private final int outputs; // 1 for the binary sigmoid, else present.length
  private final int features;
  private final double[] theta; // (features + 1) x outputs, feature-major; last row = intercepts
  private final int iterations;

  private LogisticRegression(
      int classes, int[] present, int features, double[] theta, int iterations) {
    this.classes = classes;
    this.present = present;
    this.outputs = present.length == 2 ? 1 : present.length;
    this.features = features;
    this.theta = theta;
    this.iterations = iterations;
  }

  /** Fits with C = 1 and the default stopping rule. */
  public static LogisticRegression fit(SparseMatrix x, int[] y, int classes) {
    return fit(x, y, classes, 1.0, 1e-6, 1000);
  }

  /**
   * Fits the model.
   *
   * @param x one row per training example
   * @param y class index per row, in {@code 0..classes-1}
   * @param classes number of classes
   * @param c inverse regularisation strength, as scikit-learn's C
   * @param tol stop when the largest gradient entry of the per-example objective is below this
   * @param maxIterations L-BFGS iteration cap
   */
  public static LogisticRegression fit(
      SparseMatrix x, int[] y, int classes, double c, double tol, int maxIterations) {
    return fit(x, y, classes, c, tol, maxIterations, null);
  }

  /**
   * As above, starting from {@code start}'s weights (a fit on the same rows with another C): along
   * a path of growing C each optimum is near the last, and the fit takes far fewer iterations.
   */
  static LogisticRegression fit(
      SparseMatrix x,
      int[] y,
      int classes,
      double c,
      double tol,
      int maxIterations,
      LogisticRegression start) {
    if (x.rows() != y.length) {
      throw new IllegalArgumentException(x.rows() + " rows but " + y.length + " labels");
    }
    boolean[] seen = new boolean[classes];
    for (int label : y) seen[label] = true;
    List<Integer> presentList = new ArrayList<>();
    for (int k = 0; k < classes; k++) if (seen[k]) presentList.add(k);
    if (presentList.size() < 2) {
      throw new IllegalArgumentException("training data has fewer than two classes");
    }
    int[] present = presentList.stream().mapToInt(Integer::intValue).toArray();
    int[] compact = new int[classes];
    for (int o = 0; o < present.length; o++) compact[present[o]] = o;
    int[] target = new int[y.length];
    for (int i = 0; i < y.length; i++) target[i] = compact[y[i]];

    int outputs = present.length == 2 ? 1 : present.length;
    int size = (x.cols() + 1) * outputs;
    double[] theta =
        start != null && start.theta.length == size ? start.theta.clone() : new double[size];
    int iterations;
    try (PointerScope scope = new PointerScope()) { // frees the dense path's tensors
      Objective objective = new Objective(x, target, outputs, 1.0 / (c * x.rows()), size);
      iterations = Lbfgs.minimize(objective, theta, tol, maxIterations);
    }
    return new LogisticRegression(classes, present, x.cols(), theta, iterations);
  }

  /** L-BFGS iterations the fit took. */
  public int iterations() {
    return iterations;
  }

  /** Probability per row and class (all {@code classes} columns). */
  public double[][] predictProba(SparseMatrix x) {
    if (x.cols() != features) {
      throw new IllegalArgumentException("model has " + features + " features, input " + x.cols());
    }
    double[][] out = new double[x.rows()][classes];
    double[] z = new double[outputs];
    for (int i = 0; i < x.rows(); i++) {
      logits(x, i, theta, outputs, z);
      double[] p = new double[present.length];
      if (outputs == 1) {
        p[1] = sigmoid(z[0]);
        p[0] = 1 - p[1];
      } else {
        softmax(z, p);
      }
      for (int o = 0; o < present.length; o++) out[i][present[o]] = p[o];
    }
    return out;
  }

  /**
   * The model as one linear layer over all {@code classes}, for a classification head: the softmax
   * of {@code W x + b} is {@link #predictProba}'s row (a binary model's sigmoid is the softmax of
   * logits 0 and z; a class absent from training gets a logit of -1e4, probability 0).
   *
   * @return per class, its weights over the features and then its bias
   */
  public float[][] asLinear() {
    float[][] out = new float[classes][features + 1];
    for (float[] row : out) row[features] = -1e4f;
    for (int o = 0; o < present.length; o++) {
      float[] row = out[present[o]];
      java.util.Arrays.fill(row, 0f);
      int output = outputs == 1 ? 0 : o;
      if (outputs == 1 && o == 0) continue; // the binary model's first class: logit 0
      for (int f = 0; f < features; f++) row[f] = (float) theta[f * outputs + output];
      row[features] = (float) theta[features * outputs + output];
    }
    return out;
  }

  /** Most probable class per row. */
  public int[] predict(SparseMatrix x) {
    double[][] p = predictProba(x);
    int[] out = new int[p.length];
    for (int i = 0; i < p.length; i++) out[i] = Metrics.argmax(p[i]);
    return out;
  }

  // z = W^T x_i + b, W stored feature-major so the inner loop runs over outputs contiguously.
  private static void logits(SparseMatrix x, int i, double[] theta, int outputs, double[] z) {
    int bias = x.cols() * outputs;
    System.arraycopy(theta, bias, z, 0, outputs);
    for (int p = x.rowStart()[i]; p < x.rowStart()[i + 1]; p++) {
      int base = x.columns()[p] * outputs;
      double v = x.values()[p];
      for (int o = 0; o < outputs; o++) z[o] += v * theta[base + o];
    }
  }

  private static double sigmoid(double z) {
    return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
  }

  private static void softmax(double[] z, double[] p) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : z) max = Math.max(max, v);
    double sum = 0;
    for (int o = 0; o < z.length; o++) {
      p[o] = Math.exp(z[o] - max);
      sum += p[o];
    }
    for (int o = 0; o < z.length; o++) p[o] /= sum;
  }

  /** Mean log-loss plus {@code lambda/2 ||W||^2}, with its gradient. */
  private static final class Objective implements Lbfgs.Function {
    private final SparseMatrix x;
    private final int[] y;
    private final int outputs;
    private final double lambda;

    /**
     * One gradient buffer per worker, each summing a contiguous range of rows, allocated once per
     * fit: a buffer is as large as the weights (features × classes, 60 MB for 50,000 n-grams and
     * 150 classes), so one per block of rows per evaluation cost more than the arithmetic.
     */
    private final double[][] partial;

    private final double[] partialLoss;

    /**
     * Dense features (embeddings): the rows as one (n, d) double tensor, and the targets, so that
     * an evaluation is two matrix products in libtorch instead of n × d × outputs scalar steps in
     * Java; null for sparse features (TF-IDF), which the row loop serves.
     */
    private final Tensor dense;

    private final Tensor targets;

    Objective(SparseMatrix x, int[] y, int outputs, double lambda, int size) {
      this.x = x;
      this.y = y;
      this.outputs = outputs;
      this.lambda = lambda;
      if (x.isDense() && x.rows() > 0) {
        Engine.init();
        dense = Tensors.fromDoubles(x.values(), x.rows(), x.cols());
        double[] t = new double[x.rows() * outputs];
        for (int i = 0; i < x.rows(); i++) {
          if (outputs == 1) t[i] = y[i] == 1 ? 1 : 0;
          else t[i * outputs + y[i]] = 1;
        }
        targets = Tensors.fromDoubles(t, x.rows(), outputs); // one-hot, or 0/1 for the sigmoid
        partial = new double[0][];
        partialLoss = new double[0];
        return;
      }
      dense = null;
      targets = null;
      // As many as cores (up to 8), each with at least 256 rows. The sum's order, and so its last
      // bits, follows the number of cores.
      int cores = Math.min(8, Runtime.getRuntime().availableProcessors());
      int workers = Math.max(1, Math.min(cores, x.rows() / 256));
      partial = new double[workers][size];
      partialLoss = new double[workers];
    }

    @Override
    public double valueAndGradient(double[] theta, double[] grad) {
      int n = x.rows();
      double loss =
          dense != null ? denseLossAndGradient(theta, grad) : sparseLossAndGradient(theta, grad);
      loss /= n;
      int weights = x.cols() * outputs; // intercepts (after these) are not penalised
      double penalty =
          Chunks.sum(
              grad.length,
              (from, to) -> {
                double sum = 0;
                for (int j = from; j < to; j++) {
                  grad[j] /= n;
                  if (j < weights) {
                    sum += theta[j] * theta[j];
                    grad[j] += lambda * theta[j];
                  }
                }
                return sum;
              });
      return loss + 0.5 * lambda * penalty;
    }

    /**
     * The summed loss (returned) and gradient (into {@code grad}) of dense rows: Z = X W + b, the
     * residual R = softmax(Z) - Y (sigmoid for two classes), the gradient [X^T R; sum R].
     */
    private double denseLossAndGradient(double[] theta, double[] grad) {
      try (PointerScope scope = new PointerScope();
          NoGradGuard noGrad = new NoGradGuard()) {
        int d = x.cols();
        Tensor w = Tensors.fromDoubles(theta, d + 1, outputs); // feature-major: rows are features
        Tensor z = dense.mm(w.narrow(0, 0, d)).add(w.narrow(0, d, 1));
        double loss;
        Tensor residual;
        if (outputs == 1) {
          // log(1 + e^z) - t z, as the row loop writes it
          loss = torch.softplus(z).sub(z.mul(targets)).sum().item_double();
          residual = torch.sigmoid(z).sub(targets);
        } else {
          Tensor logp = torch.log_softmax(z, 1);
          loss = -logp.mul(targets).sum().item_double();
          residual = logp.exp().sub(targets);
        }
        Tensor g =
            torch.cat(
                new TensorArrayRef(
                    new TensorVector(
                        dense.t().mm(residual),
                        residual.sum(new long[] {0}, true, new ScalarTypeOptional()))),
                0);
        Tensors.toDoubles(g, grad);
        return loss;
      }
    }

    private double sparseLossAndGradient(double[] theta, double[] grad) {
      int n = x.rows();
      int workers = partial.length;
      IntStream.range(0, workers)
          .parallel()
          .forEach(
              w ->
                  partialLoss[w] =
                      addRows(theta, w * n / workers, (w + 1) * n / workers, partial[w]));
      Chunks.forEach(
          grad.length,
          (from, to) -> {
            System.arraycopy(partial[0], from, grad, from, to - from);
            for (int w = 1; w < workers; w++) {
              double[] g = partial[w];
              for (int j = from; j < to; j++) grad[j] += g[j];
            }
          });
      double loss = 0;
      for (double l : partialLoss) loss += l;
      return loss;
    }

    /** Rows {@code from..to}: their summed loss (returned) and gradient (into {@code g}). */
    private double addRows(double[] theta, int from, int to, double[] g) {
      java.util.Arrays.fill(g, 0);
      double[] z = new double[outputs];
      double[] p = new double[outputs];
      double loss = 0;
      int bias = x.cols() * outputs;
      for (int i = from; i < to; i++) {
        logits(x, i, theta, outputs, z);
        if (outputs == 1) {
          double t = y[i] == 1 ? 1 : 0;
          // log(1 + e^z) - t z, written to stay finite for large |z|
          loss += Math.max(z[0], 0) + Math.log1p(Math.exp(-Math.abs(z[0]))) - t * z[0];
          p[0] = sigmoid(z[0]) - t;
        } else {
          softmax(z, p);
          loss -= Math.log(Math.max(p[y[i]], Double.MIN_NORMAL));
          p[y[i]] -= 1;
        }
        // p now holds the residual d loss / d z
        for (int q = x.rowStart()[i]; q < x.rowStart()[i + 1]; q++) {
          int base = x.columns()[q] * outputs;
          double v = x.values()[q];
          for (int o = 0; o < outputs; o++) g[base + o] += v * p[o];
        }
        for (int o = 0; o < outputs; o++) g[bias + o] += p[o];
      }
      return loss;
    }
  }
}
