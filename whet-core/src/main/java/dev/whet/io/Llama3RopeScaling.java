package dev.whet.io;

/**
 * Llama 3.1's {@code rope_scaling} ({@code rope_type: "llama3"} in config.json): rotary frequencies
 * whose wavelength exceeds {@code originalMaxPositions / lowFreqFactor} are divided by {@code
 * factor}, those shorter than {@code originalMaxPositions / highFreqFactor} are kept, and the band
 * between is interpolated. The same scaling reaches a GGUF file as a {@code rope_freqs} tensor of
 * per-frequency divisors; {@link #fromDivisors} recovers the parameters from it.
 */
public record Llama3RopeScaling(
    double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {

  /** The scaled frequency (transformers' llama3 rule, per frequency). */
  public double scale(double freq) {
    double lowWavelen = originalMaxPositions / lowFreqFactor;
    double highWavelen = originalMaxPositions / highFreqFactor;
    double wavelen = 2 * Math.PI / freq;
    if (wavelen < highWavelen) {
      return freq;
    }
    if (wavelen > lowWavelen) {
      return freq / factor;
    }
    double smooth =
        (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * freq / factor + smooth * freq;
  }

  /**
   * The parameters that produce {@code divisors} (llama.cpp's {@code rope_freqs}: unscaled / scaled
   * frequency, one per pair of head dimensions), or null when no llama3 scaling does. The tensor
   * does not carry the parameters, so the published combinations are tried: factor is the largest
   * divisor, the frequency factors and original context come from Llama 3.1 and 3.2 and their
   * neighbours, and a candidate counts only if it reproduces every divisor to 1e-4.
   */
  public static Llama3RopeScaling fromDivisors(float[] divisors, double theta, int headDim) {
    double factor = 0;
    for (float d : divisors) {
      factor = Math.max(factor, d);
    }
    for (int original : new int[] {8192, 4096, 2048, 16384, 32768}) {
      for (double low : new double[] {1, 2}) {
        for (double high : new double[] {4, 2, 8}) {
          Llama3RopeScaling s = new Llama3RopeScaling(factor, low, high, original);
          if (s.reproduces(divisors, theta, headDim)) {
            return s;
          }
        }
      }
    }
    return null;
  }

  private boolean reproduces(float[] divisors, double theta, int headDim) {
    for (int i = 0; i < divisors.length; i++) {
      double freq = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
      double divisor = freq / scale(freq);
      if (Math.abs(divisor - divisors[i]) > 1e-4 * Math.max(1, divisor)) {
        return false;
      }
    }
    return true;
  }
}
