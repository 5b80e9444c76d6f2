package dev.whet.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Dense features (embeddings) are fitted with libtorch matrix products, sparse ones (TF-IDF) row by
 * row in Java: the same data through both paths reaches the same optimum, for the binary sigmoid
 * and the multinomial softmax.
 */
@Tag("engine")
class LogisticRegressionTest {
  @ParameterizedTest
  @ValueSource(ints = {2, 5})
  void denseAndRowByRowFitsAgree(int classes) {
    Random rng = new Random(classes);
    int n = 300;
    int d = 12;
    float[][] x = new float[n][d];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = rng.nextInt(classes);
      for (int j = 0; j < d; j++)
        x[i][j] = (float) (rng.nextGaussian() + (j % classes == y[i] ? 1 : 0));
    }
    SparseMatrix dense = SparseMatrix.fromDense(x);
    SparseMatrix rowByRow = reversedColumns(dense);
    assertTrue(dense.isDense());
    assertFalse(rowByRow.isDense());
    LogisticRegression a = LogisticRegression.fit(dense, y, classes, 3.0, 1e-10, 10_000);
    LogisticRegression b = LogisticRegression.fit(rowByRow, y, classes, 3.0, 1e-10, 10_000);
    double[][] pa = a.predictProba(dense);
    double[][] pb = b.predictProba(dense);
    for (int i = 0; i < n; i++) assertArrayEquals(pb[i], pa[i], 1e-6, "row " + i);
  }

  /** The same matrix with each row's entries stored last column first: not the dense layout. */
  private static SparseMatrix reversedColumns(SparseMatrix m) {
    int[] columns = new int[m.nonZeros()];
    double[] values = new double[m.nonZeros()];
    for (int i = 0; i < m.rows(); i++) {
      int from = m.rowStart()[i];
      int to = m.rowStart()[i + 1];
      for (int p = from; p < to; p++) {
        columns[p] = m.columns()[to - 1 - (p - from)];
        values[p] = m.values()[to - 1 - (p - from)];
      }
    }
    return new SparseMatrix(m.rows(), m.cols(), m.rowStart(), columns, values);
  }
}
