package dev.whet.io;

import dev.whet.WhetException;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the parts of an ONNX model that an importer needs: the graph's initializers (weights) and
 * its nodes. A minimal protobuf wire-format reader, streaming, so a 130 MB model is never held
 * twice; no protobuf library and no generated code.
 *
 * <p>Field numbers come from onnx.proto: ModelProto.graph = 7; GraphProto.node = 1, initializer =
 * 5; NodeProto input = 1, output = 2, name = 3, op_type = 4; TensorProto dims = 1, data_type = 2,
 * float_data = 4, int32_data = 5, int64_data = 7, name = 8, raw_data = 9, double_data = 10,
 * external_data = 13, data_location = 14.
 */
public final class Onnx {
  private Onnx() {}

  /** One operator of the graph. */
  public record Node(String name, String opType, List<String> inputs, List<String> outputs) {}

  /**
   * The graph of a model.
   *
   * @param initializers weights by name, in file order
   * @param nodes operators, in file order
   */
  public record Model(Map<String, TensorData> initializers, List<Node> nodes) {}

  /** Reads an ONNX file. */
  public static Model read(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return read(in, file.toString());
    } catch (IOException e) {
      throw new WhetException(file + ": cannot read ONNX file (" + e.getMessage() + ")", e);
    }
  }

  /** Reads an ONNX model held in memory. */
  public static Model read(byte[] bytes, String source) {
    return read(new ByteArrayInputStream(bytes), source);
  }

  /** Reads an ONNX model from a stream (not closed); {@code source} names it in error messages. */
  public static Model read(InputStream in, String source) {
    Reader r = new Reader(new BufferedInputStream(in, 1 << 16), source);
    try {
      Map<String, TensorData> inits = new LinkedHashMap<>();
      List<Node> nodes = new ArrayList<>();
      boolean sawGraph = false;
      while (!r.atEnd(Long.MAX_VALUE)) {
        int tag = r.tag();
        if (tag == tag(7, LEN)) {
          sawGraph = true;
          readGraph(r, r.end(), inits, nodes);
        } else {
          r.skip(tag);
        }
      }
      if (!sawGraph) {
        throw r.error("has no graph; is it an ONNX model?");
      }
      return new Model(inits, nodes);
    } catch (EOFException e) {
      throw r.error("ends in the middle of a field (truncated file?)");
    } catch (IOException e) {
      throw new WhetException(source + ": cannot read ONNX model (" + e.getMessage() + ")", e);
    }
  }

  private static void readGraph(Reader r, long end, Map<String, TensorData> inits, List<Node> nodes)
      throws IOException {
    while (!r.atEnd(end)) {
      int tag = r.tag();
      if (tag == tag(1, LEN)) {
        nodes.add(readNode(r, r.end()));
      } else if (tag == tag(5, LEN)) {
        TensorData t = readTensor(r, r.end());
        inits.put(t.name(), t);
      } else {
        r.skip(tag);
      }
    }
  }

  private static Node readNode(Reader r, long end) throws IOException {
    String name = "";
    String op = "";
    List<String> inputs = new ArrayList<>();
    List<String> outputs = new ArrayList<>();
    while (!r.atEnd(end)) {
      int tag = r.tag();
      switch (tag) {
        case (1 << 3) | LEN -> inputs.add(r.string());
        case (2 << 3) | LEN -> outputs.add(r.string());
        case (3 << 3) | LEN -> name = r.string();
        case (4 << 3) | LEN -> op = r.string();
        default -> r.skip(tag);
      }
    }
    return new Node(name, op, List.copyOf(inputs), List.copyOf(outputs));
  }

  private static TensorData readTensor(Reader r, long end) throws IOException {
    List<Long> dims = new ArrayList<>();
    int dataType = 0;
    String name = "";
    byte[] raw = null;
    boolean external = false;
    // Typed repeated fields, kept as written; at most one of them (or raw_data) is used.
    ByteBuffer floats = null;
    List<Long> varints = new ArrayList<>();
    ByteBuffer doubles = null;
    while (!r.atEnd(end)) {
      int tag = r.tag();
      int field = tag >>> 3;
      int wire = tag & 7;
      switch (field) {
        case 1 -> r.varints(wire, dims);
        case 2 -> dataType = (int) r.varint();
        case 4 -> floats = r.fixed(wire, 4, floats);
        case 5, 7 -> r.varints(wire, varints);
        case 8 -> name = r.string();
        case 9 -> raw = r.bytes(r.length());
        case 10 -> doubles = r.fixed(wire, 8, doubles);
        case 13 -> {
          external = true;
          r.skip(tag);
        }
        case 14 -> external |= r.varint() == 1;
        default -> r.skip(tag);
      }
    }
    if (external) {
      throw r.error(
          "initializer '"
              + name
              + "' keeps its data in an external file, which Whet does not read; export the model"
              + " with its weights inside the .onnx file");
    }
    DType dtype = dtypeOf(dataType);
    if (dtype == null) {
      throw r.error(
          "initializer '"
              + name
              + "' has ONNX data_type "
              + dataType
              + ", which Whet does not read");
    }
    long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
    long numel = TensorData.numel(shape);
    ByteBuffer data;
    if (raw != null) {
      data = ByteBuffer.wrap(raw);
    } else if (floats != null) {
      data = floats.flip();
    } else if (doubles != null) {
      data = doubles.flip();
    } else {
      data =
          ByteBuffer.allocate(Math.toIntExact(numel * dtype.size())).order(ByteOrder.LITTLE_ENDIAN);
      if (varints.size() != numel) {
        throw r.error(
            "initializer '" + name + "' has " + varints.size() + " values for shape " + dims);
      }
      for (long v : varints) {
        switch (dtype.size()) {
          case 8 -> data.putLong(v);
          case 4 -> data.putInt((int) v);
          case 2 -> data.putShort((short) v);
          default -> data.put((byte) v);
        }
      }
      data.flip();
    }
    if (data.remaining() != numel * dtype.size()) {
      throw r.error(
          "initializer '"
              + name
              + "' holds "
              + data.remaining()
              + " bytes but "
              + dtype
              + " "
              + dims
              + " needs "
              + numel * dtype.size());
    }
    return new TensorData(name, dtype, shape, data);
  }

  /** ONNX TensorProto.DataType to our dtypes; null for the ones we do not read. */
  private static DType dtypeOf(int onnxType) {
    return switch (onnxType) {
      case 1 -> DType.F32;
      case 2 -> DType.U8;
      case 3 -> DType.I8;
      case 5 -> DType.I16;
      case 6 -> DType.I32;
      case 7 -> DType.I64;
      case 9 -> DType.BOOL;
      case 10 -> DType.F16;
      case 11 -> DType.F64;
      case 16 -> DType.BF16;
      default -> null;
    };
  }

  private static final int VARINT = 0;
  private static final int I64 = 1;
  private static final int LEN = 2;
  private static final int I32 = 5;

  private static int tag(int field, int wire) {
    return (field << 3) | wire;
  }

  /** Protobuf wire format over a stream, tracking the byte position for nested message ends. */
  private static final class Reader {
    final InputStream in;
    final String source;
    long pos;

    Reader(InputStream in, String source) {
      this.in = in;
      this.source = source;
    }

    boolean atEnd(long end) throws IOException {
      if (pos > end) {
        throw error("a field runs past the end of its enclosing message at byte " + end);
      }
      if (pos == end) {
        return true;
      }
      if (end == Long.MAX_VALUE) {
        in.mark(1);
        int b = in.read();
        in.reset();
        return b < 0;
      }
      return false;
    }

    int tag() throws IOException {
      long t = varint();
      if (t <= 0 || t > Integer.MAX_VALUE) {
        throw error("has an invalid field tag at byte " + pos);
      }
      return (int) t;
    }

    int read() throws IOException {
      int b = in.read();
      if (b < 0) {
        throw new EOFException();
      }
      pos++;
      return b;
    }

    long varint() throws IOException {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        int b = read();
        v |= (long) (b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
          return v;
        }
      }
      throw error("has a malformed varint at byte " + pos);
    }

    /** Reads a length prefix; returns where the length-delimited field ends. */
    long end() throws IOException {
      long n = length();
      return pos + n;
    }

    long length() throws IOException {
      long n = varint();
      if (n < 0 || n > Integer.MAX_VALUE) {
        throw error("has an invalid field length " + n + " at byte " + pos);
      }
      return n;
    }

    byte[] bytes(long n) throws IOException {
      byte[] b = in.readNBytes((int) n);
      if (b.length != n) {
        throw new EOFException();
      }
      pos += n;
      return b;
    }

    String string() throws IOException {
      return new String(bytes(length()), StandardCharsets.UTF_8);
    }

    /** A repeated varint field, packed or not. */
    void varints(int wire, List<Long> out) throws IOException {
      if (wire == VARINT) {
        out.add(varint());
      } else if (wire == LEN) {
        long end = end();
        while (pos < end) {
          out.add(varint());
        }
      } else {
        throw error("has a repeated integer field with wire type " + wire);
      }
    }

    /** A repeated fixed-width field (float or double), packed or not, appended to {@code buf}. */
    ByteBuffer fixed(int wire, int width, ByteBuffer buf) throws IOException {
      byte[] b = wire == LEN ? bytes(length()) : bytes(width);
      if (wire != LEN && wire != (width == 4 ? I32 : I64)) {
        throw error("has a repeated float field with wire type " + wire);
      }
      if (buf == null) {
        buf = ByteBuffer.allocate(Math.max(b.length, 1024)).order(ByteOrder.LITTLE_ENDIAN);
      }
      if (buf.remaining() < b.length) {
        ByteBuffer bigger =
            ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + b.length))
                .order(ByteOrder.LITTLE_ENDIAN);
        buf = bigger.put(buf.flip());
      }
      return buf.put(b);
    }

    void skip(int tag) throws IOException {
      switch (tag & 7) {
        case VARINT -> varint();
        case I64 -> skipBytes(8);
        case LEN -> skipBytes(length());
        case I32 -> skipBytes(4);
        default -> throw error("has unsupported wire type " + (tag & 7) + " at byte " + pos);
      }
    }

    private void skipBytes(long n) throws IOException {
      long left = n;
      while (left > 0) {
        long s = in.skip(left);
        if (s <= 0) {
          if (in.read() < 0) {
            throw new EOFException();
          }
          s = 1;
        }
        left -= s;
      }
      pos += n;
    }

    WhetException error(String what) {
      return new WhetException(source + ": " + what + ".");
    }
  }
}
