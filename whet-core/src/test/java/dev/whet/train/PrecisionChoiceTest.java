package dev.whet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.engine.Engine;
import dev.whet.model.EncoderConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code precision: auto} follows the measurement, each branch forced with a timer of our own. */
class PrecisionChoiceTest {
  @TempDir Path dir;

  /** A timer that answers fixed times and counts its calls. */
  private static PrecisionChoice.LayerTimer timer(double fp32, double bf16, List<String> calls) {
    return bf16On -> {
      calls.add(bf16On ? "bf16" : "fp32");
      return bf16On ? bf16 : fp32;
    };
  }

  @Test
  void bf16OnlyWhenClearlyFaster() {
    assertEquals("bf16", PrecisionChoice.fromTimes("one layer", 100, 40).precision());
    assertEquals(
        "bf16", PrecisionChoice.fromTimes("one layer", 100, 90).precision(), "at the margin");
    assertEquals(
        "fp32", PrecisionChoice.fromTimes("one layer", 100, 95).precision(), "a tie goes to fp32");
    // The regression this guards against: fused bf16 attention made bf16 2x slower.
    PrecisionChoice slower = PrecisionChoice.fromTimes("one layer", 100, 220);
    assertEquals("fp32", slower.precision());
    assertTrue(
        slower.reason().contains("one layer took 220.0 ms in bf16 and 100.0 ms in fp32"),
        slower.reason());
  }

  @Test
  void withoutNativeBf16NothingIsMeasured() {
    List<String> calls = new ArrayList<>();
    PrecisionChoice c =
        PrecisionChoice.choose("shape", "one layer", 2, false, dir, timer(100, 10, calls));
    assertEquals("fp32", c.precision());
    assertTrue(c.reason().contains("no native bf16"), c.reason());
    assertEquals(List.of(), calls);
    assertTrue(Double.isNaN(c.fp32Ms()));
  }

  @Test
  void measuresOncePerShapeAndThreadsThenReadsTheCache() throws Exception {
    List<String> calls = new ArrayList<>();
    PrecisionChoice first =
        PrecisionChoice.choose("bert h384", "one layer", 2, true, dir, timer(100, 40, calls));
    assertEquals("bf16", first.precision());
    assertEquals(List.of("fp32", "bf16"), calls);
    try (var files = Files.list(dir)) {
      assertEquals(1, files.count(), "one cache file");
    }

    calls.clear();
    PrecisionChoice again =
        PrecisionChoice.choose("bert h384", "one layer", 2, true, dir, timer(1, 1000, calls));
    assertEquals(List.of(), calls, "cached: not measured again");
    assertEquals(first, again);

    PrecisionChoice otherShape =
        PrecisionChoice.choose("bert h768", "one layer", 2, true, dir, timer(100, 300, calls));
    assertEquals("fp32", otherShape.precision());
    PrecisionChoice otherThreads =
        PrecisionChoice.choose("bert h384", "one layer", 1, true, dir, timer(100, 300, calls));
    assertEquals("fp32", otherThreads.precision());
    assertEquals(List.of("fp32", "bf16", "fp32", "bf16"), calls);

    // A damaged cache file (not JSON, or JSON without the times) is measured again, never an error.
    for (boolean json : List.of(false, true)) {
      try (var files = Files.list(dir)) {
        for (Path f : files.toList()) {
          String text = Files.readString(f);
          Files.writeString(f, json ? text.replace("_ms\"", "_seconds\"") : "{not json");
        }
      }
      calls.clear();
      PrecisionChoice measured =
          PrecisionChoice.choose("bert h384", "one layer", 2, true, dir, timer(100, 40, calls));
      assertEquals("bf16", measured.precision());
      assertEquals(List.of("fp32", "bf16"), calls, json ? "times missing" : "not JSON");
    }
  }

  /** The real measurement on a tiny encoder: where bf16 is native it times both, else neither. */
  @Test
  @Tag("engine")
  void measuresATinyEncoderLayer() {
    Engine.init();
    EncoderConfig tiny =
        new EncoderConfig("bert", 200, 32, 4, 4, 64, 160, 2, 1e-12, 0.1, 0.0, "gelu", 0, 0);
    String before = System.getProperty("whet.home");
    System.setProperty("whet.home", dir.toString());
    try {
      int threadsBefore = Engine.threads();
      PrecisionChoice c = PrecisionChoice.forEncoder(tiny, null, 1);
      assertEquals(threadsBefore, Engine.threads(), "the thread count is restored");
      if (Engine.cpuHasNativeBf16()) {
        assertTrue(c.fp32Ms() > 0 && c.bf16Ms() > 0, c.toString());
        assertTrue(Files.isDirectory(dir.resolve("calibration")));
        assertEquals(c, PrecisionChoice.forEncoder(tiny, null, 1), "read back from the cache");
      } else {
        assertEquals("fp32", c.precision());
      }
    } finally {
      if (before == null) {
        System.clearProperty("whet.home");
      } else {
        System.setProperty("whet.home", before);
      }
    }
  }
}
