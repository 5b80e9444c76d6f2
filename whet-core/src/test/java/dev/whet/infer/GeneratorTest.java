package dev.whet.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.io.Tokenizer;
import dev.whet.model.LlamaModel;
import dev.whet.model.TinyLlama;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("engine")
class GeneratorTest {
  static final Path TINY_STORIES = Path.of("src/test/resources/models/TinyStories-656K-hf");

  @Test
  void tinyStoriesGreedyFromStartOfStoryTellsAboutLily() {
    LlamaModel m = LlamaModel.load(TINY_STORIES, null);
    try (Tokenizer tok = Tokenizer.load(TINY_STORIES.resolve("tokenizer.json"), 512)) {
      Generator g = new Generator(m, tok, List.of(2L));
      StringBuilder streamed = new StringBuilder();
      Generator.Completion c =
          g.generate(new long[] {1}, GenerationOptions.greedy(40), streamed::append);
      assertTrue(
          c.text().startsWith("Once upon a time, there was a little girl named Lily."), c.text());
      assertEquals(c.text(), streamed.toString());
    }
  }

  @Test
  void cachedDecodingEqualsRecomputingEverything() {
    for (LlamaModel m :
        List.of(
            LlamaModel.load(TINY_STORIES, null), TinyLlama.model(TinyLlama.config(), null, 3))) {
      Generator cached = new Generator(m, null, List.of());
      long[] prompt = {1, 14, 27, 9};
      for (GenerationOptions o :
          List.of(
              GenerationOptions.greedy(30),
              new GenerationOptions(30, 0.9, 20, 0.9, 1.2, List.of(), 42))) {
        List<float[]> a = new ArrayList<>();
        List<float[]> b = new ArrayList<>();
        long[] withCache = cached.generateIds(prompt, o, a);
        long[] without = cached.withoutCache().generateIds(prompt, o, b);
        assertArrayEquals(without, withCache);
        assertEquals(30, withCache.length);
        for (int s = 0; s < a.size(); s++) {
          for (int v = 0; v < a.get(s).length; v++) {
            assertEquals(b.get(s)[v], a.get(s)[v], 1e-4, "step " + s + " token " + v);
          }
        }
      }
    }
  }

  @Test
  void seedReproducesSamplingAndStopStringsCutTheText() {
    LlamaModel m = LlamaModel.load(TINY_STORIES, null);
    try (Tokenizer tok = Tokenizer.load(TINY_STORIES.resolve("tokenizer.json"), 512)) {
      Generator g = new Generator(m, tok, List.of(2L));
      GenerationOptions hot = new GenerationOptions(30, 1.0, 0, 1, 1, List.of(), 7);
      String first = g.generate(new long[] {1}, hot, null).text();
      assertEquals(first, g.generate(new long[] {1}, hot, null).text());
      GenerationOptions other = new GenerationOptions(30, 1.0, 0, 1, 1, List.of(), 8);
      assertNotEquals(first, g.generate(new long[] {1}, other, null).text());

      GenerationOptions stop = new GenerationOptions(40, 0, 0, 1, 1, List.of(" girl"), 0);
      StringBuilder streamed = new StringBuilder();
      Generator.Completion c = g.generate(new long[] {1}, stop, streamed::append);
      assertEquals("Once upon a time, there was a little", c.text());
      assertEquals(c.text(), streamed.toString());
      assertEquals(Generator.Finish.STOP_SEQUENCE, c.finish());
    }
  }

  @Test
  void heldBackTextCoversPartialStopStrings() {
    assertEquals(2, Generator.heldBack("hello <|", List.of("<|im_end|>")));
    assertEquals(0, Generator.heldBack("hello", List.of("<|im_end|>")));
    assertEquals(1, Generator.heldBack("caf\uFFFD", List.of()));
  }
}
