package dev.whet.io;

/** Placeholder until the io branch lands (safetensors dtypes). */
public enum DType {
  F32(4),
  F16(2),
  BF16(2),
  F64(8),
  I64(8),
  I32(4),
  I16(2),
  I8(1),
  U8(1),
  BOOL(1);

  private final int size;

  DType(int size) {
    this.size = size;
  }

  public int size() {
    return size;
  }
}
