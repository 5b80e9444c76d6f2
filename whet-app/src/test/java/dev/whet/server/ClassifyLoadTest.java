package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bounded load test of the classify endpoint, with small counts so the suite stays quick
 * ({@code whet bench serve} runs it with the figures): a classifier fine-tuned from
 * minilm-l6 for two steps, 50 concurrent clients, zero errors.
 */
@Tag("engine")
@Tag("load")
class ClassifyLoadTest {
  @TempDir Path dir;

  @Test
  void fiftyConcurrentClientsGetNoErrors() throws Exception {
    String previous = System.getProperty("whet.home");
    System.setProperty("whet.home", InferenceFixture.Models.get().home.toString());
    Path model;
    try {
      model = ServeBench.trainClassifier(dir, "minilm-l6", 2);
    } finally {
      if (previous == null) {
        System.clearProperty("whet.home");
      } else {
        System.setProperty("whet.home", previous);
      }
    }
    ServeBench.Result r;
    try (ServeBench.Server server = new ServeBench.Server("clf", model)) {
      r = ServeBench.run(server.apiBase(), "clf", 50, 150, 10);
    }
    assertEquals(0, r.errors(), r.toString());
    assertEquals(Map.of(200, 160), r.statuses(), r.toString());
    assertTrue(r.p50Ms() > 0 && r.p99Ms() >= r.p50Ms() && r.throughput() > 0, r.toString());
    System.err.println("classify load (suite size): " + r);
  }
}
