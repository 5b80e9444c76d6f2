package dev.whet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whet.io.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EncodedSetTest {
  @TempDir Path dir;

  /** The default base model's real tokenizer (a test resource). */
  private Tokenizer minilm() {
    try (InputStream in = getClass().getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
      Path p = dir.resolve("tokenizer.json");
      Files.copy(in, p);
      return Tokenizer.load(p, 128);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void batchesPadToTheLongestOfTheirRows() {
    try (Tokenizer tok = minilm()) {
      EncodedSet set =
          EncodedSet.of(
              tok,
              List.of("short", "a somewhat longer sentence here", "x"),
              null,
              new int[][] {{0}, {1}, {0}},
              2);
      int[] lengths = set.lengths();
      Tokenizer.Batch b = set.batch(new int[] {0, 1}, tok.padId());
      assertEquals(Math.max(lengths[0], lengths[1]), b.width(), "no padding to a global maximum");
      assertArrayEquals(new int[] {lengths[0], lengths[1]}, b.lengths());
      assertEquals(tok.padId(), b.ids()[b.width() - 1], "the shorter row is padded");
      assertEquals(0, b.mask()[b.width() - 1]);
      assertEquals(lengths[2], set.batch(new int[] {2}, tok.padId()).width());
    }
  }

  @Test
  void pairsGetTypeIdsOneOnTheSecondText() {
    try (Tokenizer tok = minilm()) {
      EncodedSet set =
          EncodedSet.of(tok, List.of("first"), List.of("second part"), new int[][] {{0}}, 2);
      Tokenizer.Batch pair = set.batch(new int[] {0}, tok.padId());
      // [CLS] first [SEP] second part [SEP]
      long[] types = Arrays.copyOf(pair.typeIds(), pair.width());
      assertEquals(0, types[0]);
      assertEquals(0, types[2], "the first [SEP] belongs to the first text");
      assertEquals(1, types[pair.width() - 1]);
    }
  }
}
