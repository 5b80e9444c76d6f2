package dev.whet.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Whet's tokenization (Hugging Face's Rust tokenizers reading the model's tokenizer JSON) agrees
 * exactly with an independent plain-Python WordPiece (resources/tokenization/make_fixtures.py),
 * including truncation at the maximum length, and pads batches with a correct attention mask.
 */
class TokenizationTest {
  @TempDir Path dir;

  private Tokenizer minilm(int maxLength) throws Exception {
    return load("/all-minilm-l6-v2-tokenizer.json", maxLength);
  }

  private Tokenizer load(String resource, int maxLength) throws Exception {
    Path json = dir.resolve("tokenizer.json");
    try (InputStream in = getClass().getResourceAsStream(resource)) {
      Files.copy(in, json, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    return Tokenizer.load(json, maxLength);
  }

  @ParameterizedTest
  @CsvSource({
    "/all-minilm-l6-v2-tokenizer.json, minilm-l6, 128",
    "/bge-small-en-v1.5-tokenizer.json, bge-small-en, 512",
    "/e5-small-v2-tokenizer.json, e5-small, 512"
  })
  void idsMatchIndependentReference(String tokenizer, String fixture, int maxLength)
      throws Exception {
    ObjectMapper om = new ObjectMapper();
    List<JsonNode> cases = new ArrayList<>();
    try (InputStream in = getClass().getResourceAsStream("/tokenization/" + fixture + ".jsonl");
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        cases.add(om.readTree(line));
      }
    }
    assertTrue(cases.size() >= 20);
    boolean sawTruncation = false;
    try (Tokenizer tok = load(tokenizer, maxLength)) {
      for (JsonNode c : cases) {
        long[] expected = om.convertValue(c.get("ids"), long[].class);
        assertArrayEquals(expected, tok.encode(c.get("text").asText()), c.get("text").asText());
        sawTruncation |= expected.length == maxLength;
      }
    }
    assertTrue(sawTruncation, "fixtures must include texts longer than the maximum length");
  }

  @Test
  void batchPadsToLongestWithMask() throws Exception {
    try (Tokenizer tok = minilm(128)) {
      Tokenizer.Batch b = tok.batch(List.of("hello world", "Hi!", "The quick brown fox"));
      assertEquals(3, b.rows());
      assertEquals(6, b.width(), "padded to the longest text, not to a global maximum");
      assertArrayEquals(new int[] {4, 4, 6}, b.lengths());
      assertArrayEquals(new long[] {101, 7592, 2088, 102, 0, 0}, slice(b.ids(), 0, 6));
      assertArrayEquals(new long[] {1, 1, 1, 1, 0, 0}, slice(b.mask(), 0, 6));
      assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1}, slice(b.mask(), 12, 18));
      assertEquals(14, b.realTokens());
    }
  }

  @Test
  void countsTokensBeyondTruncation() throws Exception {
    try (Tokenizer tok = minilm(16)) {
      String text = "word ".repeat(40);
      assertEquals(16, tok.encode(text).length);
      assertEquals(42, tok.countTokens(text), "40 words plus [CLS] and [SEP]");
    }
  }

  /**
   * A decoder's tokenizer without tokenizer_config.json (TinyStories-656K's) truncates at the
   * length it is loaded with (2,048 here, stories260K's context) and not at the 512 DJL assumes
   * when no model length is declared.
   */
  @Test
  void truncatesAtTheGivenLengthBeyond512() throws Exception {
    try (Tokenizer tok = load("/models/TinyStories-656K-hf/tokenizer.json", 2048)) {
      String text = "Once upon a time there was a little girl. ".repeat(80);
      int all = tok.countTokens(text);
      assertTrue(all > 512 && all < 2048, "a text of " + all + " tokens");
      assertEquals(all, tok.encode(text).length);
    }
  }

  @Test
  void pairsGetTypeIds() throws Exception {
    try (Tokenizer tok = minilm(128)) {
      Tokenizer.Encoded e = tok.encodePair("hello world", "Hi!");
      assertArrayEquals(new long[] {101, 7592, 2088, 102, 7632, 999, 102}, e.ids());
      assertArrayEquals(new long[] {0, 0, 0, 0, 1, 1, 1}, e.typeIds());
    }
  }

  private static long[] slice(long[] a, int from, int to) {
    return java.util.Arrays.copyOfRange(a, from, to);
  }
}
