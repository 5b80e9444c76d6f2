package dev.whet.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Llama3RopeScalingTest {
  /** What llama.cpp's converter stores as rope_freqs: unscaled over scaled frequency. */
  private static float[] divisors(Llama3RopeScaling s, double theta, int headDim) {
    float[] d = new float[headDim / 2];
    for (int i = 0; i < d.length; i++) {
      double freq = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
      d[i] = (float) (freq / s.scale(freq));
    }
    return d;
  }

  @Test
  void recoversLlama31And32ParametersFromTheirGgufDivisors() {
    for (Llama3RopeScaling published :
        new Llama3RopeScaling[] {
          new Llama3RopeScaling(8, 1, 4, 8192), // Llama 3.1
          new Llama3RopeScaling(32, 1, 4, 8192), // Llama 3.2
        }) {
      float[] d = divisors(published, 500000.0, 128);
      assertEquals(1.0f, d[0], "high frequencies are kept");
      assertEquals((float) published.factor(), d[d.length - 1], 1e-4, "low ones divided");
      assertEquals(published, Llama3RopeScaling.fromDivisors(d, 500000.0, 128));
    }
  }

  @Test
  void divisorsNoLlama3ScalingMakesAreRefused() {
    float[] d = divisors(new Llama3RopeScaling(8, 1, 4, 8192), 500000.0, 128);
    d[20] *= 1.5f; // one frequency off the curve
    assertNull(Llama3RopeScaling.fromDivisors(d, 500000.0, 128));
  }

  @Test
  void scalingKeepsShortWavelengthsAndDividesLongOnes() {
    Llama3RopeScaling s = new Llama3RopeScaling(8, 1, 4, 32);
    assertEquals(1.0, s.scale(1.0), 1e-12, "wavelength 2π is below 32/4: kept");
    assertEquals(0.01 / 8, s.scale(0.01), 1e-12, "wavelength 628 is above 32/1: divided by 8");
    double mid = s.scale(2 * Math.PI / 16); // wavelength 16, between 8 and 32: interpolated
    assertTrue(mid < 2 * Math.PI / 16 && mid > 2 * Math.PI / 16 / 8);
  }
}
