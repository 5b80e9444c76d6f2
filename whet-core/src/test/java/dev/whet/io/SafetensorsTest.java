package dev.whet.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.WhetException;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
  @TempDir Path tmp;

  @Test
  void roundTripKeepsNamesShapesValuesAndAlignment() throws IOException {
    Map<String, TensorData> in = new LinkedHashMap<>();
    in.put("b", TensorData.ofFloats("b", new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, -6.5f}));
    ByteBuffer bytes = ByteBuffer.allocate(3).put(new byte[] {7, 8, 9}).flip();
    in.put("a.u8", new TensorData("a.u8", DType.U8, new long[] {3}, bytes));
    ByteBuffer longs = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(42).flip();
    in.put("scalar", new TensorData("scalar", DType.I64, new long[] {}, longs));
    Path file = tmp.resolve("m.safetensors");

    Safetensors.write(file, in, Map.of("format", "pt"));
    Map<String, TensorData> out = Safetensors.read(file);

    assertEquals(in.keySet(), out.keySet());
    for (String k : in.keySet()) {
      assertEquals(in.get(k), out.get(k), k);
    }
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, -6.5f}, out.get("b").toFloats());
    // Largest dtype first, like the reference writer, so every tensor is aligned to its size.
    assertEquals(List.of("scalar", "b", "a.u8"), List.copyOf(out.keySet()));
    ByteBuffer raw = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0, raw.getLong(0) % 8, "header padded to 8 bytes");
    assertEquals(List.of(), leftovers(), "no temporary file left behind");
  }

  @Test
  void writeReplacesAnExistingFile() {
    Path file = tmp.resolve("m.safetensors");
    Safetensors.write(
        file, Map.of("x", TensorData.ofFloats("x", new long[] {1}, new float[] {1})), null);
    Safetensors.write(
        file, Map.of("y", TensorData.ofFloats("y", new long[] {2}, new float[] {2, 3})), null);
    assertEquals(List.of("y"), List.copyOf(Safetensors.read(file).keySet()));
  }

  @Test
  void halfPrecisionConvertsToFloats() {
    ByteBuffer f16 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    f16.putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-2f)).flip();
    ByteBuffer bf16 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    bf16.putShort((short) (Float.floatToIntBits(3f) >>> 16));
    bf16.putShort((short) (Float.floatToIntBits(-0.5f) >>> 16)).flip();
    assertArrayEquals(
        new float[] {1.5f, -2f}, new TensorData("h", DType.F16, new long[] {2}, f16).toFloats());
    assertArrayEquals(
        new float[] {3f, -0.5f}, new TensorData("b", DType.BF16, new long[] {2}, bf16).toFloats());
  }

  @Test
  void readsARealCheckpoint() throws URISyntaxException {
    Path dir =
        Path.of(getClass().getResource("/models/TinyStories-656K-hf/model.safetensors").toURI())
            .getParent();
    Map<String, TensorData> w = Safetensors.readModelDir(dir);
    assertArrayEquals(new long[] {2048, 128}, w.get("lm_head.weight").shape());
    assertArrayEquals(new long[] {128, 384}, w.get("model.layers.0.mlp.down_proj.weight").shape());
    assertEquals(DType.F32, w.get("lm_head.weight").dtype());
    long params = w.values().stream().mapToLong(TensorData::numel).sum();
    assertTrue(params > 600_000 && params < 1_100_000, "params " + params);
  }

  @Test
  void readsShardedDirectories() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("sharded"));
    Safetensors.write(
        dir.resolve("model-00001-of-00002.safetensors"),
        Map.of("a", TensorData.ofFloats("a", new long[] {1}, new float[] {1})),
        null);
    Safetensors.write(
        dir.resolve("model-00002-of-00002.safetensors"),
        Map.of("b", TensorData.ofFloats("b", new long[] {2}, new float[] {2, 3})),
        null);
    Files.writeString(
        dir.resolve("model.safetensors.index.json"),
        """
        {"metadata": {"total_size": 12}, "weight_map": {
          "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}
        """);
    Map<String, TensorData> w = Safetensors.readModelDir(dir);
    assertArrayEquals(new float[] {2, 3}, w.get("b").toFloats());
    assertEquals(2, w.size());

    Files.writeString(
        dir.resolve("model.safetensors.index.json"),
        "{\"weight_map\": {\"c\": \"model-00001-of-00002.safetensors\"}}");
    assertMessage(
        () -> Safetensors.readModelDir(dir),
        "model-00001-of-00002.safetensors: tensor 'c' listed in model.safetensors.index.json is"
            + " not in this shard");
  }

  @Test
  void modelDirWithoutWeightsIsAnError() {
    assertMessage(
        () -> Safetensors.readModelDir(tmp),
        "no model.safetensors or model.safetensors.index.json");
  }

  // --- corrupt files, crafted byte by byte ---

  private static final String GOOD_TENSOR =
      "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

  @Test
  void fileShorterThanEightBytes() throws IOException {
    Path f = tmp.resolve("short.safetensors");
    Files.write(f, new byte[] {1, 2, 3});
    assertMessage(() -> Safetensors.read(f), f + ": is 3 bytes, shorter than the 8-byte header");
  }

  @Test
  void headerLengthBeyondTheFile() throws IOException {
    Path f = tmp.resolve("long.safetensors");
    Files.write(f, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).array());
    assertMessage(
        () -> Safetensors.read(f),
        f + ": header length 1000 goes beyond the end of the file (16 bytes)");
  }

  @Test
  void headerThatIsNotJson() throws IOException {
    Path f = file("{\"w\": [oops", 0);
    assertMessage(() -> Safetensors.read(f), f + ": header is not valid JSON");
  }

  @Test
  void tensorNamedTwice() throws IOException {
    Path f = file("{" + GOOD_TENSOR + "," + GOOD_TENSOR + "}", 8);
    assertMessage(() -> Safetensors.read(f), f + ": header is not valid JSON (Duplicate field 'w'");
  }

  @Test
  void unknownDtype() throws IOException {
    Path f = file("{\"w\":{\"dtype\":\"Q4_K\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
    assertMessage(() -> Safetensors.read(f), f + ": tensor 'w' has unknown dtype 'Q4_K'");
  }

  @Test
  void nonIntegerShape() throws IOException {
    Path f = file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8);
    assertMessage(
        () -> Safetensors.read(f),
        f + ": tensor 'w' \"shape\" must be a list of non-negative integers, got [2.5]");
  }

  @Test
  void offsetsOutOfRange() throws IOException {
    Path f = file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8);
    assertMessage(() -> Safetensors.read(f), f + ": tensor 'w' \"data_offsets\" must be two");
  }

  @Test
  void offsetsThatDoNotMatchDtypeAndShape() throws IOException {
    Path f = file("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
    assertMessage(
        () -> Safetensors.read(f),
        f + ": tensor 'w' data_offsets [0, 8] span 8 bytes but F32 [3] needs 12");
  }

  @Test
  void overlappingTensors() throws IOException {
    Path f =
        file(
            "{" + GOOD_TENSOR + ",\"v\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
            8);
    assertMessage(() -> Safetensors.read(f), "tensor 'v' data_offsets [4, 8] overlap tensor 'w'");
  }

  @Test
  void truncatedData() throws IOException {
    Path f = file("{" + GOOD_TENSOR + "}", 5);
    assertMessage(
        () -> Safetensors.read(f),
        f + ": is truncated: tensor 'w' ends at data offset 8 but the file holds only 5 bytes");
  }

  @Test
  void bytesTheHeaderDoesNotDescribe() throws IOException {
    Path f = file("{" + GOOD_TENSOR + "}", 12);
    assertMessage(
        () -> Safetensors.read(f), "has 4 bytes after the last tensor that the header does not");
  }

  /** A file with {@code header} and {@code dataBytes} bytes of data. */
  private Path file(String header, int dataBytes) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    Path f = Files.createTempFile(tmp, "bad", ".safetensors");
    Files.write(f, b.array());
    return f;
  }

  private List<Path> leftovers() throws IOException {
    try (var s = Files.list(tmp)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
    }
  }

  static void assertMessage(org.junit.jupiter.api.function.Executable call, String expected) {
    WhetException e = assertThrows(WhetException.class, call);
    assertTrue(
        e.getMessage().contains(expected),
        "expected message containing\n  " + expected + "\nbut was\n  " + e.getMessage());
  }
}
