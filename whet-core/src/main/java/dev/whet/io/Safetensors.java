package dev.whet.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.WhetException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each tensor's
 * dtype, shape and byte range, then the data. Reading is strict (the same checks as the reference
 * implementation) because a silently wrong weight is far worse than a clear refusal.
 */
public final class Safetensors {
  /** The reference implementation refuses headers above 100 MB; so do we. */
  private static final long MAX_HEADER = 100_000_000L;

  private static final String METADATA = "__metadata__";
  // A tensor named twice would otherwise silently keep the last entry.
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private Safetensors() {}

  /**
   * Reads every tensor of {@code file}, in the order of their data offsets. The data is
   * memory-mapped, so this is cheap even for large files.
   */
  public static Map<String, TensorData> read(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return read(file, ch);
    } catch (IOException e) {
      throw new WhetException(file + ": cannot read safetensors file (" + e.getMessage() + ")", e);
    }
  }

  private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

  private static Map<String, TensorData> read(Path file, FileChannel ch) throws IOException {
    long size = ch.size();
    if (size < 8) {
      throw bad(file, "is " + size + " bytes, shorter than the 8-byte header length");
    }
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, lenBuf, 0);
    long headerLen = lenBuf.getLong(0);
    if (headerLen < 0 || headerLen > size - 8) {
      throw bad(
          file,
          "header length "
              + Long.toUnsignedString(headerLen)
              + " goes beyond the end of the file ("
              + size
              + " bytes): the file is truncated or not safetensors");
    }
    if (headerLen > MAX_HEADER) {
      throw bad(file, "header length " + headerLen + " is above the 100 MB limit");
    }
    ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
    readFully(ch, headerBuf, 8);
    long dataStart = 8 + headerLen;
    List<Entry> entries = parseHeader(file, headerBuf.array(), size - dataStart);

    Map<String, TensorData> out = new LinkedHashMap<>();
    for (Entry e : entries) {
      long len = e.end - e.begin;
      if (len > Integer.MAX_VALUE) {
        throw bad(
            file,
            "tensor '" + e.name + "' is " + len + " bytes; tensors above 2 GB are not supported");
      }
      ByteBuffer data =
          len == 0
              ? ByteBuffer.allocate(0)
              : ch.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin, len);
      out.put(e.name, new TensorData(e.name, e.dtype, e.shape, data));
    }
    return out;
  }

  /** Parses and checks the header; returns the tensors sorted by offset. */
  private static List<Entry> parseHeader(Path file, byte[] header, long dataLen) {
    JsonNode root;
    try {
      root = JSON.readTree(header);
    } catch (IOException e) {
      throw bad(file, "header is not valid JSON (" + firstLine(e) + ")");
    }
    if (root == null || !root.isObject()) {
      throw bad(file, "header is not a JSON object");
    }
    List<Entry> entries = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      String name = f.getKey();
      JsonNode info = f.getValue();
      if (name.equals(METADATA)) {
        checkMetadata(file, info);
        continue;
      }
      String where = "tensor '" + name + "'";
      if (!info.isObject()) {
        throw bad(file, where + " is not described by a JSON object");
      }
      JsonNode dt = info.get("dtype");
      if (dt == null || !dt.isTextual()) {
        throw bad(file, where + " has no \"dtype\" string");
      }
      DType dtype = DType.bySafetensorsName(dt.asText());
      if (dtype == null) {
        throw bad(
            file,
            where
                + " has unknown dtype '"
                + dt.asText()
                + "' (supported: "
                + DType.supportedNames()
                + ")");
      }
      long[] shape = longs(info.get("shape"));
      if (shape == null || Arrays.stream(shape).anyMatch(d -> d < 0)) {
        throw bad(
            file,
            where + " \"shape\" must be a list of non-negative integers, got " + info.get("shape"));
      }
      long[] offsets = longs(info.get("data_offsets"));
      if (offsets == null || offsets.length != 2 || offsets[0] < 0 || offsets[1] < offsets[0]) {
        throw bad(
            file,
            where
                + " \"data_offsets\" must be two integers [begin, end] with 0 <= begin <= end, got "
                + info.get("data_offsets"));
      }
      long expected;
      try {
        expected = Math.multiplyExact(TensorData.numel(shape), dtype.size());
      } catch (ArithmeticException e) {
        throw bad(file, where + " shape " + Arrays.toString(shape) + " is too large");
      }
      if (offsets[1] - offsets[0] != expected) {
        throw bad(
            file,
            where
                + " data_offsets "
                + Arrays.toString(offsets)
                + " span "
                + (offsets[1] - offsets[0])
                + " bytes but "
                + dtype
                + " "
                + Arrays.toString(shape)
                + " needs "
                + expected);
      }
      entries.add(new Entry(name, dtype, shape, offsets[0], offsets[1]));
    }
    entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));

    // Tensors must tile the data section exactly, as the reference reader requires.
    long pos = 0;
    Entry prev = null;
    for (Entry e : entries) {
      if (e.begin < pos) {
        throw bad(
            file,
            "tensor '"
                + e.name
                + "' data_offsets ["
                + e.begin
                + ", "
                + e.end
                + "] overlap tensor '"
                + prev.name
                + "' ["
                + prev.begin
                + ", "
                + prev.end
                + "]");
      }
      if (e.begin > pos) {
        throw bad(
            file,
            "tensor '"
                + e.name
                + "' starts at data offset "
                + e.begin
                + " but the previous tensor ends at "
                + pos
                + ": the header does not describe bytes "
                + pos
                + ".."
                + e.begin);
      }
      if (e.end > dataLen) {
        throw bad(
            file,
            "is truncated: tensor '"
                + e.name
                + "' ends at data offset "
                + e.end
                + " but the file holds only "
                + dataLen
                + " bytes of data. Re-download or re-export it");
      }
      pos = e.end;
      prev = e;
    }
    if (pos != dataLen) {
      throw bad(
          file,
          "has "
              + (dataLen - pos)
              + " bytes after the last tensor that the header does not describe");
    }
    return entries;
  }

  private static void checkMetadata(Path file, JsonNode meta) {
    if (!meta.isObject()) {
      throw bad(file, "\"__metadata__\" must be an object of strings");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = meta.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      if (!f.getValue().isTextual()) {
        throw bad(file, "\"__metadata__\" field '" + f.getKey() + "' must be a string");
      }
    }
  }

  /** The integers of a JSON array, or null when it is not an array of integers. */
  private static long[] longs(JsonNode node) {
    if (node == null || !node.isArray()) {
      return null;
    }
    long[] out = new long[node.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode v = node.get(i);
      if (!v.isIntegralNumber() || !v.canConvertToLong()) {
        return null;
      }
      out[i] = v.asLong();
    }
    return out;
  }

  /**
   * Reads the weights of a Hugging Face model directory: {@code model.safetensors}, or the shards
   * listed in {@code model.safetensors.index.json}'s {@code weight_map}.
   */
  public static Map<String, TensorData> readModelDir(Path dir) {
    Path single = dir.resolve("model.safetensors");
    Path index = dir.resolve("model.safetensors.index.json");
    if (Files.isRegularFile(single)) {
      return read(single);
    }
    if (!Files.isRegularFile(index)) {
      throw new WhetException(
          dir
              + ": no model.safetensors or model.safetensors.index.json; a model directory needs its"
              + " weights in safetensors format");
    }
    JsonNode map;
    try {
      map = JSON.readTree(index.toFile()).get("weight_map");
    } catch (IOException e) {
      throw new WhetException(index + ": not valid JSON (" + firstLine(e) + ")", e);
    }
    if (map == null || !map.isObject() || map.isEmpty()) {
      throw new WhetException(index + ": field \"weight_map\" is missing or empty");
    }
    Map<String, Map<String, TensorData>> shards = new LinkedHashMap<>();
    Map<String, TensorData> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      String shard = f.getValue().asText();
      Path shardFile = dir.resolve(shard).normalize();
      if (!f.getValue().isTextual() || !shardFile.startsWith(dir.normalize())) {
        throw new WhetException(
            index
                + ": weight_map entry '"
                + f.getKey()
                + "' names an invalid shard "
                + f.getValue());
      }
      if (!Files.isRegularFile(shardFile)) {
        throw new WhetException(
            index + ": shard '" + shard + "' (for tensor '" + f.getKey() + "') is missing");
      }
      Map<String, TensorData> tensors = shards.computeIfAbsent(shard, s -> read(shardFile));
      TensorData t = tensors.get(f.getKey());
      if (t == null) {
        throw new WhetException(
            shardFile
                + ": tensor '"
                + f.getKey()
                + "' listed in "
                + index.getFileName()
                + " is not in this shard");
      }
      out.put(f.getKey(), t);
    }
    return out;
  }

  /**
   * Writes {@code tensors} to {@code file} atomically: a temporary file in the same directory is
   * written, flushed to disk and renamed over {@code file}, so readers see the old file or the
   * whole new one. Like the reference writer, tensors are laid out largest dtype first (then by
   * name) so that every tensor starts aligned to its element size, and the header is padded with
   * spaces so the data starts on an 8-byte boundary.
   */
  public static void write(
      Path file, Map<String, TensorData> tensors, Map<String, String> metadata) {
    List<TensorData> order = new ArrayList<>(tensors.values());
    order.sort(
        Comparator.comparingInt((TensorData t) -> -t.dtype().size())
            .thenComparing(TensorData::name));
    ObjectNode header = JSON.createObjectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode meta = header.putObject(METADATA);
      metadata.forEach(meta::put);
    }
    long offset = 0;
    for (TensorData t : order) {
      ObjectNode info = header.putObject(t.name());
      info.put("dtype", t.dtype().name());
      ArrayNode shape = info.putArray("shape");
      for (long d : t.shape()) {
        shape.add(d);
      }
      info.putArray("data_offsets").add(offset).add(offset + t.byteSize());
      offset += t.byteSize();
    }
    byte[] json;
    try {
      json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    int padded = (json.length + 7) / 8 * 8;
    ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    head.putLong(padded).put(json);
    while (head.hasRemaining()) {
      head.put((byte) ' ');
    }
    head.flip();

    Path dir = file.toAbsolutePath().getParent();
    Path tmp = null;
    try {
      Files.createDirectories(dir);
      // Not Files.createTempFile: it makes the file owner-only, and the rename would keep that.
      tmp =
          dir.resolve(
              "."
                  + file.getFileName()
                  + "."
                  + ProcessHandle.current().pid()
                  + "-"
                  + System.nanoTime()
                  + ".tmp");
      try (FileChannel ch =
          FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        writeFully(ch, head);
        for (TensorData t : order) {
          writeFully(ch, t.data());
        }
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      tmp = null;
      syncDirectory(dir);
    } catch (IOException e) {
      throw new WhetException(file + ": cannot write safetensors file (" + e.getMessage() + ")", e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // best effort: the original error matters more
        }
      }
    }
  }

  /** Makes a rename durable; not every platform lets a directory be opened, hence best effort. */
  static void syncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException ignored) {
      // the rename itself is still atomic
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos);
      if (n < 0) {
        throw new IOException("unexpected end of file");
      }
      pos += n;
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }

  private static WhetException bad(Path file, String what) {
    return new WhetException(file + ": " + what + ".");
  }

  private static String firstLine(Exception e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
