package dev.whet.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorrelationTest {
  @Test
  void spearmanWithTiesMatchesScipy() {
    // scipy 1.10.1 stats.spearmanr on the fixture (make_fixtures.py); both samples have ties
    JsonNode f = Fixtures.load("spearman.json");
    double rho = Correlation.spearman(Fixtures.doubles(f.get("x")), Fixtures.doubles(f.get("y")));
    assertEquals(f.get("spearman").asDouble(), rho, 1e-12);
  }

  @Test
  void forgettingIsFlaggedOnlyBeyondTheThreshold() {
    ForgettingCheck small = ForgettingCheck.of("sts", 0.82, 0.81);
    assertEquals(0.01, small.drop(), 1e-12);
    assertFalse(small.flagged());
    ForgettingCheck big = ForgettingCheck.of("sts", 0.82, 0.70);
    assertTrue(big.flagged());
    assertEquals(ForgettingCheck.DEFAULT_THRESHOLD, big.threshold());
  }

  @Test
  void stsScoreIsSpearmanOfCosineAgainstGold() {
    float[][] a = {{1, 0}, {1, 0}, {1, 0}};
    float[][] b = {{1, 0}, {1, 1}, {0, 1}}; // cosines 1, 0.707, 0
    assertEquals(1.0, ForgettingCheck.stsSpearman(a, b, new double[] {5, 3, 0}), 1e-12);
    assertEquals(-1.0, ForgettingCheck.stsSpearman(a, b, new double[] {0, 3, 5}), 1e-12);
  }

  @Test
  void readsStsbTabSeparatedLayout(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("sts.csv");
    Files.writeString(
        file,
        "main-captions\tMSRvid\t2012test\t0024\t2.500\tA girl is styling her hair.\tA girl is"
            + " brushing her hair.\n");
    List<ForgettingCheck.Pair> pairs = ForgettingCheck.readStsb(file);
    assertEquals(
        new ForgettingCheck.Pair(
            "A girl is styling her hair.", "A girl is brushing her hair.", 2.5),
        pairs.get(0));
  }
}
