package dev.whet.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.WhetException;
import dev.whet.infer.GenerationOptions;
import dev.whet.infer.Generator;
import dev.whet.model.LlamaConfig;
import dev.whet.model.LlamaModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufTest {
  static final Path GGUF = Path.of("src/test/resources/models/gguf");

  @Test
  void readsHeaderMetadataAndTensors() {
    Gguf g = Gguf.read(GGUF.resolve("stories260K.gguf"));
    assertEquals(3, g.version());
    assertEquals("llama", g.metadata().get("general.architecture"));
    assertEquals(5L, g.requireLong("llama.block_count"));
    assertArrayEquals(new long[] {32, 64}, g.tensors().get("blk.0.attn_k.weight").shape());
    assertEquals(512 * 64, g.floats("token_embd.weight").length);
  }

  @Test
  void rejectsWhatIsNotGguf(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("x.gguf");
    Files.writeString(f, "not a gguf file at all, just text");
    WhetException e = assertThrows(WhetException.class, () -> Gguf.read(f));
    assertTrue(e.getMessage().contains("not a GGUF file"), e.getMessage());
    byte[] header = Files.readAllBytes(GGUF.resolve("stories260K.gguf"));
    Path cut = tmp.resolve("cut.gguf");
    Files.write(cut, java.util.Arrays.copyOf(header, 4000));
    WhetException t = assertThrows(WhetException.class, () -> Gguf.read(cut));
    assertTrue(t.getMessage().contains("truncated"), t.getMessage());
  }

  @Test
  void q8_0DequantisesScaleTimesInt8() {
    ByteBuffer b = ByteBuffer.allocate(34).order(ByteOrder.LITTLE_ENDIAN);
    b.putShort(Float.floatToFloat16(0.5f));
    for (int i = 0; i < 32; i++) {
      b.put((byte) (i - 16));
    }
    b.flip();
    float[] out = new float[32];
    GgufQuants.q8_0(b, out);
    assertEquals(-8f, out[0]);
    assertEquals(7.5f, out[31]);
  }

  /**
   * Issue 17, item 4: Q4_K and Q6_K against an independent numpy implementation of ggml's block
   * layouts (gguf-quants/make_quant_fixtures.py): three random super-blocks of each.
   */
  @Test
  void kQuantsMatchAnIndependentImplementation() throws Exception {
    JsonNode f =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(Path.of("src/test/resources/gguf-quants/quant_blocks.json").toFile());
    for (String format : List.of("q4_k", "q6_k")) {
      byte[] raw = java.util.HexFormat.of().parseHex(f.get(format).get("hex").asText());
      JsonNode want = f.get(format).get("values");
      float[] out = new float[want.size()];
      ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
      if (format.equals("q4_k")) {
        GgufQuants.q4K(b, out);
      } else {
        GgufQuants.q6K(b, out);
      }
      assertEquals(raw.length, b.position(), format + ": every byte read");
      for (int i = 0; i < out.length; i++) {
        double w = want.get(i).asDouble();
        assertEquals(w, out[i], 1e-5 * Math.abs(w) + 1e-6, format + " value " + i);
      }
    }
  }

  @Test
  void unpermuteRestoresRotateHalfOrder() {
    // One head, d = 4, one column: llama.cpp rows (a0, b0, a1, b1) → HF rows (a0, a1, b0, b1).
    float[] w = GgufImporter.unpermute(new float[] {0, 10, 1, 11}, new long[] {4, 1}, 1);
    assertArrayEquals(new float[] {0, 1, 10, 11}, w);
  }

  @Tag("engine")
  @Test
  void stories260KGreedyFromBosTellsItsDocumentedStory(@TempDir Path dir) throws Exception {
    GgufImporter.writeModelDir(Gguf.read(GGUF.resolve("stories260K.gguf")), dir);
    LlamaConfig c = LlamaConfig.read(dir.resolve("config.json"));
    assertEquals(4, c.kvHeads());
    assertEquals(false, c.tieWordEmbeddings());
    LlamaModel m = LlamaModel.load(dir, null);
    try (Tokenizer tok = Tokenizer.load(dir.resolve("tokenizer.json"), 512)) {
      Generator.Completion out =
          new Generator(m, tok, List.of(2L))
              .generate(new long[] {1}, GenerationOptions.greedy(60), null);
      assertTrue(
          out.text()
              .startsWith(
                  "Once upon a time, there was a little girl named Lily. She loved to play"
                      + " outside in the park. One day, she saw a big, red ball."),
          out.text());
      // The converted tokenizer round-trips text through the SentencePiece vocabulary.
      long[] ids = tok.encode("Once upon a time");
      assertEquals(1L, ids[0]);
      assertEquals("Once upon a time", tok.decode(ids));
    }
  }

  @Test
  void llama2VocabularyConvertsToTheReferenceTokenization(@TempDir Path dir) throws Exception {
    GgufImporter.writeModelDir(Gguf.read(GGUF.resolve("llama-2-tiny-random.gguf")), dir);
    try (Tokenizer tok = Tokenizer.load(dir.resolve("tokenizer.json"), 512)) {
      // Llama 2's tokenizer: "Hello world" → <s> ▁Hello ▁world.
      assertArrayEquals(new long[] {1, 15043, 3186}, tok.encode("Hello world"));
      assertEquals("Hello world", tok.decode(tok.encode("Hello world")));
    }
    assertTrue(Files.readString(dir.resolve("tokenizer_config.json")).contains("\"<s>\""));
  }
}
