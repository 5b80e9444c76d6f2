package dev.whet.eval;

/**
 * A row-compressed (CSR) matrix of doubles: row i's non-zeros are {@code values[rowStart[i] ..
 * rowStart[i+1])} at columns {@code columns[...]}. Dense embeddings are stored the same way (every
 * entry present) so the classifiers have one code path.
 */
public record SparseMatrix(int rows, int cols, int[] rowStart, int[] columns, double[] values) {
  /** Validates the shape invariants. */
  public SparseMatrix {
    if (rowStart.length != rows + 1 || columns.length != values.length) {
      throw new IllegalArgumentException("malformed CSR arrays");
    }
  }

  /** Number of stored entries. */
  public int nonZeros() {
    return values.length;
  }

  /** Wraps a dense matrix (rows of equal length). */
  public static SparseMatrix fromDense(float[][] dense) {
    int rows = dense.length;
    int cols = rows == 0 ? 0 : dense[0].length;
    int[] rowStart = new int[rows + 1];
    int[] columns = new int[rows * cols];
    double[] values = new double[rows * cols];
    for (int i = 0; i < rows; i++) {
      if (dense[i].length != cols) {
        throw new IllegalArgumentException(
            "row " + i + " has " + dense[i].length + " values, row 0 has " + cols);
      }
      rowStart[i + 1] = (i + 1) * cols;
      for (int j = 0; j < cols; j++) {
        columns[i * cols + j] = j;
        values[i * cols + j] = dense[i][j];
      }
    }
    return new SparseMatrix(rows, cols, rowStart, columns, values);
  }

  /** Whether every entry is stored, row by row in column order (as {@link #fromDense} stores). */
  public boolean isDense() {
    if (values.length != (long) rows * cols) return false;
    for (int p = 0; p < columns.length; p++) if (columns[p] != p % cols) return false;
    return true;
  }

  /** Entry (i, j), zero when not stored; a linear scan, for tests and small lookups. */
  public double get(int i, int j) {
    for (int p = rowStart[i]; p < rowStart[i + 1]; p++) if (columns[p] == j) return values[p];
    return 0;
  }
}
