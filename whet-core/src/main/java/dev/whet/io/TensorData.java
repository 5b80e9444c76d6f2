package dev.whet.io;

import java.nio.ByteBuffer;

/** Placeholder until the io branch lands. */
public record TensorData(String name, DType dtype, long[] shape, ByteBuffer data) {
  public long numel() {
    long n = 1;
    for (long s : shape) {
      n *= s;
    }
    return n;
  }
}
