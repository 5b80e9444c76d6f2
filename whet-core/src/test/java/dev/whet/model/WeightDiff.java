package dev.whet.model;

import dev.whet.io.Safetensors;
import dev.whet.io.TensorData;
import java.nio.file.Path;
import java.util.Map;

/** Compares two saved models tensor by tensor (resume tests). */
public final class WeightDiff {
  private WeightDiff() {}

  /** The largest absolute difference between same-named tensors of two safetensors files. */
  public static double maxAbs(Path a, Path b) {
    Map<String, TensorData> x = Safetensors.read(a);
    Map<String, TensorData> y = Safetensors.read(b);
    if (!x.keySet().equals(y.keySet())) {
      throw new AssertionError("different tensors: " + x.keySet() + " vs " + y.keySet());
    }
    double worst = 0;
    for (String name : x.keySet()) {
      float[] u = x.get(name).toFloats();
      float[] v = y.get(name).toFloats();
      for (int i = 0; i < u.length; i++) {
        worst = Math.max(worst, Math.abs(u[i] - v[i]));
      }
    }
    return worst;
  }
}
