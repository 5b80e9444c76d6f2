package dev.whet.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * One named tensor as bytes: {@code data} is little-endian, positioned at 0 and holds exactly
 * {@code numel() * dtype.size()} bytes, row-major.
 *
 * @param name the checkpoint key, e.g. {@code encoder.layer.0.attention.self.query.weight}
 * @param dtype element type
 * @param shape dimensions, outermost first; empty for a scalar
 * @param data the elements
 */
public record TensorData(String name, DType dtype, long[] shape, ByteBuffer data) {

  public TensorData {
    shape = shape.clone();
    long bytes = numel(shape) * dtype.size();
    if (data.remaining() != bytes) {
      throw new IllegalArgumentException(
          name
              + ": "
              + dtype
              + " "
              + Arrays.toString(shape)
              + " needs "
              + bytes
              + " bytes, got "
              + data.remaining());
    }
    data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** An F32 tensor holding {@code values} (copied). */
  public static TensorData ofFloats(String name, long[] shape, float[] values) {
    ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    buf.asFloatBuffer().put(values);
    return new TensorData(name, DType.F32, shape, buf);
  }

  /** Number of elements (1 for a scalar). */
  public long numel() {
    return numel(shape);
  }

  /** Size of {@link #data()} in bytes. */
  public long byteSize() {
    return numel() * dtype.size();
  }

  /** The shape, as a copy (records hand out their array otherwise). */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** The data, as an independent view positioned at 0 (callers may move its position). */
  @Override
  public ByteBuffer data() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The elements as floats; F32, F16 and BF16 only. */
  public float[] toFloats() {
    int n = Math.toIntExact(numel());
    float[] out = new float[n];
    ByteBuffer b = data();
    switch (dtype) {
      case F32 -> {
        FloatBuffer fb = b.asFloatBuffer();
        fb.get(out);
      }
      case F16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = Float.float16ToFloat(b.getShort(i * 2));
        }
      }
      case BF16 -> {
        // bfloat16 is the upper half of a float32.
        for (int i = 0; i < n; i++) {
          out[i] = Float.intBitsToFloat((b.getShort(i * 2) & 0xffff) << 16);
        }
      }
      default ->
          throw new UnsupportedOperationException(
              name + ": " + dtype + " cannot be read as floats");
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorData t
        && name.equals(t.name)
        && dtype == t.dtype
        && Arrays.equals(shape, t.shape)
        && data.equals(t.data);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + " " + dtype + " " + Arrays.toString(shape);
  }

  static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }
}
