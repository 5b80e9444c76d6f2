package dev.whet.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ModelComparisonTest {
  @Test
  void ranksRunsAndSaysWhichAreWithinTheInterval() {
    int n = 1000;
    SplittableRandom r = new SplittableRandom(5);
    int[] gold = new int[n];
    int[] good = new int[n];
    int[] almost = new int[n];
    int[] bad = new int[n];
    for (int i = 0; i < n; i++) {
      gold[i] = r.nextInt(3);
      double u = r.nextDouble();
      good[i] = u < 0.90 ? gold[i] : (gold[i] + 1) % 3;
      // independent errors: a half-point gap is then well within the noise
      almost[i] = r.nextDouble() < 0.895 ? gold[i] : (gold[i] + 1) % 3;
      bad[i] = u < 0.70 ? gold[i] : (gold[i] + 2) % 3;
    }
    ModelComparison.RunInfo a = info("run-bge"), b = info("run-minilm"), c = info("run-e5");
    ModelComparison cmp = ModelComparison.of(gold, 3, List.of(c, a, b), List.of(bad, good, almost));
    assertEquals("run-bge", cmp.rows().get(0).info().run());
    assertFalse(cmp.rows().get(1).clearlyWorse(), "half a point behind is within the interval");
    assertTrue(cmp.rows().get(2).clearlyWorse());
    String table = cmp.toTable();
    assertTrue(table.contains("1 other run(s) are within its 95% interval"), table);
    assertTrue(table.contains("22.7M"), table);
  }

  private static ModelComparison.RunInfo info(String run) {
    return new ModelComparison.RunInfo(
        run, "base", "lora", 22_700_000, 300_000, 600, 12.5, 90_000_000);
  }
}
