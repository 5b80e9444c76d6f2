package dev.whet.infer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.io.Safetensors;
import dev.whet.io.TensorData;
import dev.whet.model.LlamaConfig;
import dev.whet.model.LlamaModel;
import dev.whet.model.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, item 5: a closed decoder frees its weights at once. A server evicting models, or a test
 * loading one per case, must not grow by a model each time until the garbage collector happens to
 * run.
 */
class LanguageModelMemoryTest {
  static final Path TINY = Path.of("src/test/resources/models/TinyStories-656K-hf");

  @TempDir static Path dir;

  /**
   * A 59 MB decoder (TinyStories-656K's architecture widened, random weights, its tokenizer): large
   * enough that a leak of one model per load stands far above the allocator's and the JVM's noise.
   */
  @BeforeAll
  static void wideModel() throws Exception {
    String config =
        Files.readString(TINY.resolve("config.json"))
            .replace("\"hidden_size\": 128", "\"hidden_size\": 512")
            .replace("\"intermediate_size\": 384", "\"intermediate_size\": 1376")
            .replace("\"vocab_size\": 2048", "\"vocab_size\": 8192")
            .replace("\"tie_word_embeddings\": true", "\"tie_word_embeddings\": false");
    Files.writeString(dir.resolve("config.json"), config);
    Files.copy(TINY.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
    try (LlamaModel m = LlamaModel.of(LlamaConfig.read(dir.resolve("config.json")), null)) {
      Map<String, TensorData> tensors = new LinkedHashMap<>();
      Weights.parameters(m).forEach((name, t) -> tensors.put(name, Weights.toData(name, t)));
      Safetensors.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
    }
  }

  @Test
  void loadingAndClosingAModelRepeatedlyKeepsMemoryBounded() throws Exception {
    long weights = Files.size(dir.resolve("model.safetensors"));
    for (int i = 0; i < 3; i++) {
      LanguageModel.load(dir).close(); // warm up: allocator pools, libtorch's caches
    }
    long before = anonymousRss();
    int loads = 12;
    for (int i = 0; i < loads; i++) {
      try (LanguageModel m = LanguageModel.load(dir)) {
        assertTrue(m.model() != null);
      }
    }
    long grown = anonymousRss() - before;
    System.out.printf(
        "%d loads of a %.0f MB model: anonymous resident memory grew %.0f MB%n",
        loads, weights / 1e6, grown / 1e6);
    // Keeping each model's weights would add loads x weights (700 MB here).
    assertTrue(
        grown < loads * weights / 4,
        "anonymous resident memory grew " + grown / 1e6 + " MB over " + loads + " loads");
  }

  /**
   * RssAnon from /proc/self/status: resident memory not backed by a file. The weights file is
   * memory-mapped while it loads, and a mapping in Java leaves with the garbage collector; its
   * pages are the page cache, not memory a model holds.
   */
  static long anonymousRss() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("RssAnon:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IllegalStateException("no RssAnon in /proc/self/status");
  }
}
