package dev.whet.io;

import java.nio.file.Path;
import java.util.Map;

/** Placeholder until the io branch lands. */
public final class Safetensors {
  private Safetensors() {}

  public static Map<String, TensorData> readModelDir(Path dir) {
    throw new UnsupportedOperationException("io branch");
  }

  public static Map<String, TensorData> read(Path file) {
    throw new UnsupportedOperationException("io branch");
  }

  public static void write(Path file, Map<String, TensorData> tensors, Map<String, String> meta) {
    throw new UnsupportedOperationException("io branch");
  }
}
