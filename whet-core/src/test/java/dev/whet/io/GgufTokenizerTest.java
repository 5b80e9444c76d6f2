package dev.whet.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Byte-level (gpt2-style) GGUF vocabularies, on a GGUF file written here with five tokens. */
class GgufTokenizerTest {
  @Test
  void byteLevelVocabularyAndMergesBecomeAWorkingTokenizer(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bpe.gguf");
    Files.write(
        file,
        gguf(
            List.of(
                kv("general.architecture", "llama"),
                kv("tokenizer.ggml.model", "gpt2"),
                kvStrings(
                    "tokenizer.ggml.tokens", List.of("<|endoftext|>", "a", "b", "Ġ", "ab", "Ġab")),
                kvInts("tokenizer.ggml.token_type", List.of(3, 1, 1, 1, 1, 1)),
                kvStrings("tokenizer.ggml.merges", List.of("a b", "Ġ ab")),
                kvU32("tokenizer.ggml.eos_token_id", 0))));
    Gguf g = Gguf.read(file);
    Path json = dir.resolve("tokenizer.json");
    Files.writeString(json, GgufImporter.pretty(GgufTokenizer.tokenizerJson(g)));
    try (Tokenizer tok = Tokenizer.load(json, 64)) {
      assertArrayEquals(new long[] {4, 5}, tok.encode("ab ab"));
      assertEquals("ab ab", tok.decode(new long[] {4, 5}));
      assertEquals(0, tok.tokenId("<|endoftext|>"));
    }
  }

  // --- a minimal GGUF v3 writer: metadata only, no tensors ---

  private static byte[] gguf(List<byte[]> kvs) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer h = le(24);
    h.putInt(0x46554747).putInt(3).putLong(0).putLong(kvs.size());
    out.writeBytes(h.array());
    kvs.forEach(out::writeBytes);
    return out.toByteArray();
  }

  private static ByteBuffer le(int n) {
    return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static byte[] str(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    return le(8 + b.length).putLong(b.length).put(b).array();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  private static byte[] kv(String key, String value) {
    return concat(str(key), le(4).putInt(8).array(), str(value));
  }

  private static byte[] kvU32(String key, int value) {
    return concat(str(key), le(4).putInt(4).array(), le(4).putInt(value).array());
  }

  private static byte[] kvStrings(String key, List<String> values) {
    byte[] head = le(12).putInt(8).putLong(values.size()).array();
    byte[][] items = values.stream().map(GgufTokenizerTest::str).toArray(byte[][]::new);
    return concat(str(key), le(4).putInt(9).array(), head, concat(items));
  }

  private static byte[] kvInts(String key, List<Integer> values) {
    ByteBuffer b = le(12 + 4 * values.size()).putInt(5).putLong(values.size());
    values.forEach(b::putInt);
    return concat(str(key), le(4).putInt(9).array(), b.array());
  }
}
