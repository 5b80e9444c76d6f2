package dev.whet.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Random;

/**
 * Writes small ONNX files in protobuf wire format, for tests: a BERT laid out like the real exports
 * (HF-named biases, transposed {@code onnx::MatMul_N} weights behind named MatMul nodes), or single
 * tensors encoded in the less common ways.
 */
final class TinyOnnx {
  private final ByteArrayOutputStream graph = new ByteArrayOutputStream();
  private int matmuls = 100;

  /** A BERT with random weights: vocab 10, 8 positions, 2 types, hidden 12, ffn 16. */
  static byte[] bert(int layers, long seed) {
    TinyOnnx o = new TinyOnnx();
    Random rnd = new Random(seed);
    int h = 12; // divisible by the 12 heads the catalog gives every built-in
    int ffn = 16;
    o.init("embeddings.position_ids", 7, new long[] {1, 8}, longs(0, 1, 2, 3, 4, 5, 6, 7));
    o.floats("embeddings.word_embeddings.weight", new long[] {10, h}, rnd);
    o.floats("embeddings.position_embeddings.weight", new long[] {8, h}, rnd);
    o.floats("embeddings.token_type_embeddings.weight", new long[] {2, h}, rnd);
    o.floats("embeddings.LayerNorm.weight", new long[] {h}, rnd);
    o.floats("embeddings.LayerNorm.bias", new long[] {h}, rnd);
    for (int l = 0; l < layers; l++) {
      String p = "encoder.layer." + l + ".";
      String q = "/encoder/layer." + l + "/";
      for (String proj : new String[] {"query", "key", "value"}) {
        o.matmul(q + "attention/self/" + proj, h, h, rnd);
        o.floats(p + "attention.self." + proj + ".bias", new long[] {h}, rnd);
      }
      o.node(q + "attention/self/MatMul", "MatMul", "scores_q", "scores_k");
      o.matmul(q + "attention/output/dense", h, h, rnd);
      o.floats(p + "attention.output.dense.bias", new long[] {h}, rnd);
      o.floats(p + "attention.output.LayerNorm.weight", new long[] {h}, rnd);
      o.floats(p + "attention.output.LayerNorm.bias", new long[] {h}, rnd);
      o.matmul(q + "intermediate/dense", h, ffn, rnd);
      o.floats(p + "intermediate.dense.bias", new long[] {ffn}, rnd);
      o.matmul(q + "output/dense", ffn, h, rnd);
      o.floats(p + "output.dense.bias", new long[] {h}, rnd);
      o.floats(p + "output.LayerNorm.weight", new long[] {h}, rnd);
      o.floats(p + "output.LayerNorm.bias", new long[] {h}, rnd);
    }
    return o.model();
  }

  /** A minimal valid tokenizer.json (WordPiece, a few tokens). */
  static byte[] tokenizerJson() {
    return """
        {"version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
         "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                        "strip_accents": null, "lowercase": true},
         "pre_tokenizer": {"type": "BertPreTokenizer"},
         "post_processor": null, "decoder": null,
         "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                   "max_input_chars_per_word": 100,
                   "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "hello": 4}}}
        """
        .getBytes(StandardCharsets.UTF_8);
  }

  /** Weight of an (in, out) MatMul: stored as in the exports, under a generated name. */
  void matmul(String module, int in, int out, Random rnd) {
    String w = "onnx::MatMul_" + matmuls++;
    floats(w, new long[] {in, out}, rnd);
    node(module + "/MatMul", "MatMul", module + "_input", w);
  }

  void floats(String name, long[] shape, Random rnd) {
    int n = (int) TensorData.numel(shape);
    ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putFloat(rnd.nextFloat() - 0.5f);
    }
    init(name, 1, shape, b.array());
  }

  /** An initializer with raw_data. */
  void init(String name, int onnxType, long[] shape, byte[] raw) {
    Msg t = new Msg();
    for (long d : shape) {
      t.varint(1, d);
    }
    t.varint(2, onnxType).string(8, name).bytes(9, raw);
    new Msg().bytes(5, t.toBytes()).writeTo(graph);
  }

  /** Any initializer, encoded by the caller. */
  void rawInitializer(Msg tensor) {
    new Msg().bytes(5, tensor.toBytes()).writeTo(graph);
  }

  void node(String name, String op, String... inputs) {
    Msg n = new Msg();
    for (String in : inputs) {
      n.string(1, in);
    }
    n.string(2, name + "_output_0").string(3, name).string(4, op);
    new Msg().bytes(1, n.toBytes()).writeTo(graph);
  }

  byte[] model() {
    return new Msg()
        .varint(1, 8) // ir_version, skipped by the reader
        .bytes(7, graph.toByteArray())
        .string(2, "whet-test") // producer_name, after the graph on purpose
        .toBytes();
  }

  static byte[] longs(long... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      b.putLong(v);
    }
    return b.array();
  }

  /** Protobuf message under construction. */
  static final class Msg {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Msg varint(int field, long v) {
      tag(field, 0);
      raw(v);
      return this;
    }

    Msg bytes(int field, byte[] b) {
      tag(field, 2);
      raw(b.length);
      out.writeBytes(b);
      return this;
    }

    Msg string(int field, String s) {
      return bytes(field, s.getBytes(StandardCharsets.UTF_8));
    }

    Msg fixed32(int field, float v) {
      tag(field, 5);
      int bits = Float.floatToIntBits(v);
      for (int i = 0; i < 4; i++) {
        out.write((bits >>> (8 * i)) & 0xff);
      }
      return this;
    }

    Msg packedVarints(int field, long... vs) {
      Msg inner = new Msg();
      for (long v : vs) {
        inner.raw(v);
      }
      return bytes(field, inner.toBytes());
    }

    Msg packedFloats(int field, float... vs) {
      ByteBuffer b = ByteBuffer.allocate(vs.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (float v : vs) {
        b.putFloat(v);
      }
      return bytes(field, b.array());
    }

    private void tag(int field, int wire) {
      raw(((long) field << 3) | wire);
    }

    private void raw(long v) {
      while ((v & ~0x7fL) != 0) {
        out.write((int) ((v & 0x7f) | 0x80));
        v >>>= 7;
      }
      out.write((int) v);
    }

    byte[] toBytes() {
      return out.toByteArray();
    }

    void writeTo(ByteArrayOutputStream o) {
      o.writeBytes(out.toByteArray());
    }
  }
}
