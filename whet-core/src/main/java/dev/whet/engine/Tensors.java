package dev.whet.engine;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Copies between Java arrays and libtorch tensors. Tensors made here own their memory. */
public final class Tensors {
  private Tensors() {}

  /**
   * An owned handle on {@code ref}'s tensor. The binding returns references into C++ containers (a
   * module's parameter dict, a returned dict), which dangle when the container grows or is freed; a
   * copy of the handle shares the storage and stays valid.
   */
  public static Tensor own(Tensor ref) {
    return new Tensor(ref);
  }

  public static Tensor fromFloats(float[] values, long... shape) {
    try (FloatPointer p = new FloatPointer(values)) {
      // clone: from_blob only borrows the Java-owned buffer, which is freed when p closes.
      return torch.from_blob(p, shape, new TensorOptions(ScalarType.Float)).clone();
    }
  }

  public static Tensor fromDoubles(double[] values, long... shape) {
    try (DoublePointer p = new DoublePointer(values)) {
      return torch.from_blob(p, shape, new TensorOptions(ScalarType.Double)).clone();
    }
  }

  public static Tensor fromLongs(long[] values, long... shape) {
    try (LongPointer p = new LongPointer(values)) {
      return torch.from_blob(p, shape, new TensorOptions(ScalarType.Long)).clone();
    }
  }

  /** All elements as floats, row-major. */
  public static float[] toFloats(Tensor t) {
    Tensor c = t.detach().to(ScalarType.Float).contiguous();
    float[] out = new float[Math.toIntExact(c.numel())];
    c.data_ptr_float().get(out);
    return out;
  }

  /** All elements as doubles, row-major, into {@code out} (of the tensor's size). */
  public static void toDoubles(Tensor t, double[] out) {
    Tensor c = t.detach().to(ScalarType.Double).contiguous();
    if (c.numel() != out.length) {
      throw new IllegalArgumentException(c.numel() + " elements into " + out.length);
    }
    c.data_ptr_double().get(out);
  }

  /** All elements as longs, row-major. */
  public static long[] toLongs(Tensor t) {
    Tensor c = t.detach().to(ScalarType.Long).contiguous();
    long[] out = new long[Math.toIntExact(c.numel())];
    c.data_ptr_long().get(out);
    return out;
  }

  public static long[] shape(Tensor t) {
    return t.sizes().vec().get();
  }

  /** A 2-D tensor as rows of floats. */
  public static float[][] toMatrix(Tensor t) {
    long[] s = shape(t);
    if (s.length != 2) {
      throw new IllegalArgumentException(
          "expected a 2-D tensor, got " + java.util.Arrays.toString(s));
    }
    float[] flat = toFloats(t);
    float[][] rows = new float[(int) s[0]][(int) s[1]];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(flat, i * rows[i].length, rows[i], 0, rows[i].length);
    }
    return rows;
  }
}
