package dev.whet.io;

import dev.whet.WhetException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (llama.cpp's format, versions 2 and 3): metadata key/values and tensors, dequantised
 * to float32 on request. Supported tensor types: F32, F16, BF16, Q8_0, Q4_K, Q6_K.
 *
 * <p>Layout: magic "GGUF", version, tensor count, metadata count; metadata (key, type, value);
 * tensor infos (name, dims innermost first, type, offset); padding to {@code general.alignment};
 * tensor data. All little-endian.
 */
public final class Gguf {
  private final Path file;
  private final int version;
  private final Map<String, Object> metadata;
  private final Map<String, TensorInfo> tensors;
  private final long dataStart;

  /**
   * One tensor's description.
   *
   * @param dims ggml dimensions, innermost first (the reverse of a PyTorch shape)
   * @param type ggml type id (0 F32, 1 F16, 8 Q8_0, 12 Q4_K, 14 Q6_K, 30 BF16)
   * @param offset bytes from the start of the data section
   */
  public record TensorInfo(String name, long[] dims, int type, long offset) {
    /** The PyTorch/Hugging Face shape: dims reversed. */
    public long[] shape() {
      long[] s = new long[dims.length];
      for (int i = 0; i < dims.length; i++) {
        s[i] = dims[dims.length - 1 - i];
      }
      return s;
    }

    public long numel() {
      long n = 1;
      for (long d : dims) {
        n *= d;
      }
      return n;
    }
  }

  private Gguf(
      Path file,
      int version,
      Map<String, Object> metadata,
      Map<String, TensorInfo> tensors,
      long dataStart) {
    this.file = file;
    this.version = version;
    this.metadata = metadata;
    this.tensors = tensors;
    this.dataStart = dataStart;
  }

  /** Reads the header (metadata and tensor infos); tensor data is read on demand. */
  public static Gguf read(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      // Headers with a large vocabulary run to megabytes; map at most 1 GiB of them.
      ByteBuffer b =
          ch.map(FileChannel.MapMode.READ_ONLY, 0, Math.min(size, 1L << 30))
              .order(ByteOrder.LITTLE_ENDIAN);
      if (b.remaining() < 24 || b.getInt() != 0x46554747) {
        throw new WhetException(file + ": not a GGUF file (the first bytes are not \"GGUF\")");
      }
      int version = b.getInt();
      if (version != 2 && version != 3) {
        throw new WhetException(
            file + ": GGUF version " + version + " is not supported (versions 2 and 3 are)");
      }
      long tensorCount = b.getLong();
      long kvCount = b.getLong();
      Map<String, Object> meta = new LinkedHashMap<>();
      for (long i = 0; i < kvCount; i++) {
        String key = string(b);
        meta.put(key, value(b, b.getInt(), file, key));
      }
      Map<String, TensorInfo> infos = new LinkedHashMap<>();
      for (long i = 0; i < tensorCount; i++) {
        String name = string(b);
        int nDims = b.getInt();
        long[] dims = new long[nDims];
        for (int d = 0; d < nDims; d++) {
          dims[d] = b.getLong();
        }
        infos.put(name, new TensorInfo(name, dims, b.getInt(), b.getLong()));
      }
      long alignment = ((Number) meta.getOrDefault("general.alignment", 32)).longValue();
      long pos = b.position();
      long dataStart = (pos + alignment - 1) / alignment * alignment;
      Gguf g = new Gguf(file, version, meta, infos, dataStart);
      for (TensorInfo t : infos.values()) {
        if (dataStart + t.offset() + g.byteSize(t) > size) {
          throw new WhetException(
              file + ": tensor '" + t.name() + "' runs past the end of the file (truncated?)");
        }
      }
      return g;
    } catch (IOException e) {
      throw new WhetException(file + ": cannot read (" + e.getMessage() + ")", e);
    } catch (java.nio.BufferUnderflowException
        | ArithmeticException
        | IllegalArgumentException
        | OutOfMemoryError e) {
      // Lengths read from a damaged header can be anything.
      throw new WhetException(file + ": the GGUF header is truncated or corrupt", e);
    }
  }

  public int version() {
    return version;
  }

  public Path file() {
    return file;
  }

  /** Metadata values: Long for integers, Double for floats, Boolean, String, or List of those. */
  public Map<String, Object> metadata() {
    return metadata;
  }

  public Map<String, TensorInfo> tensors() {
    return tensors;
  }

  /** A metadata value that must be present. */
  public Object require(String key) {
    Object v = metadata.get(key);
    if (v == null) {
      throw new WhetException(file + ": metadata key '" + key + "' is missing");
    }
    return v;
  }

  public long requireLong(String key) {
    if (!(require(key) instanceof Number n)) {
      throw new WhetException(file + ": metadata key '" + key + "' is not a number");
    }
    return n.longValue();
  }

  /** The tensor's elements as float32, row-major in its PyTorch shape. */
  public float[] floats(String name) {
    TensorInfo t = tensors.get(name);
    if (t == null) {
      throw new WhetException(file + ": tensor '" + name + "' is missing");
    }
    int n = Math.toIntExact(t.numel());
    float[] out = new float[n];
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer b =
          ch.map(FileChannel.MapMode.READ_ONLY, dataStart + t.offset(), byteSize(t))
              .order(ByteOrder.LITTLE_ENDIAN);
      switch (t.type()) {
        case 0 -> b.asFloatBuffer().get(out);
        case 1 -> {
          for (int i = 0; i < n; i++) {
            out[i] = Float.float16ToFloat(b.getShort());
          }
        }
        case 30 -> {
          for (int i = 0; i < n; i++) {
            out[i] = Float.intBitsToFloat((b.getShort() & 0xffff) << 16);
          }
        }
        case 8 -> GgufQuants.q8_0(b, out);
        case 12 -> GgufQuants.q4K(b, out);
        case 14 -> GgufQuants.q6K(b, out);
        default -> throw unsupported(t);
      }
    } catch (IOException e) {
      throw new WhetException(file + ": cannot read tensor '" + name + "' (" + e + ")", e);
    }
    return out;
  }

  /** Bytes the tensor occupies in the file. */
  long byteSize(TensorInfo t) {
    long n = t.numel();
    return switch (t.type()) {
      case 0 -> n * 4;
      case 1, 30 -> n * 2;
      case 8 -> blocks(t, 32) * 34; // f16 scale + 32 int8
      case 12 -> blocks(t, 256) * 144; // Q4_K super-block
      case 14 -> blocks(t, 256) * 210; // Q6_K super-block
      default -> throw unsupported(t);
    };
  }

  private long blocks(TensorInfo t, int blockSize) {
    if (t.dims()[0] % blockSize != 0) {
      throw new WhetException(
          file + ": tensor '" + t.name() + "' rows are not a whole number of quant blocks");
    }
    return t.numel() / blockSize;
  }

  private WhetException unsupported(TensorInfo t) {
    return new WhetException(
        file
            + ": tensor '"
            + t.name()
            + "' has ggml type "
            + t.type()
            + ", which Whet cannot dequantise; supported: F32, F16, BF16, Q8_0, Q4_K, Q6_K");
  }

  private static String string(ByteBuffer b) {
    int len = Math.toIntExact(b.getLong());
    byte[] bytes = new byte[len];
    b.get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static Object value(ByteBuffer b, int type, Path file, String key) {
    return switch (type) {
      case 0 -> (long) (b.get() & 0xff);
      case 1 -> (long) b.get();
      case 2 -> (long) (b.getShort() & 0xffff);
      case 3 -> (long) b.getShort();
      case 4 -> b.getInt() & 0xffffffffL;
      case 5 -> (long) b.getInt();
      case 6 -> (double) b.getFloat();
      case 7 -> b.get() != 0;
      case 8 -> string(b);
      case 9 -> {
        int itemType = b.getInt();
        long count = b.getLong();
        List<Object> list = new ArrayList<>((int) Math.min(count, 1 << 20));
        for (long i = 0; i < count; i++) {
          list.add(value(b, itemType, file, key));
        }
        yield list;
      }
      case 10, 11 -> b.getLong();
      case 12 -> b.getDouble();
      default ->
          throw new WhetException(
              file + ": metadata key '" + key + "' has unknown value type " + type);
    };
  }
}
