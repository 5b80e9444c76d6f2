package dev.whet.io;

import static dev.whet.io.SafetensorsTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class OnnxTest {
  @Test
  void readsInitializersAndNodesOfATinyBert() {
    Onnx.Model m = Onnx.read(TinyOnnx.bert(2, 1), "tiny.onnx");
    TensorData ids = m.initializers().get("embeddings.position_ids");
    assertEquals(DType.I64, ids.dtype());
    assertArrayEquals(new long[] {1, 8}, ids.shape());
    assertEquals(7, ids.data().getLong(7 * 8));
    assertArrayEquals(new long[] {12, 16}, m.initializers().get("onnx::MatMul_104").shape());
    Onnx.Node q = m.nodes().get(0);
    assertEquals("/encoder/layer.0/attention/self/query/MatMul", q.name());
    assertEquals("MatMul", q.opType());
    assertEquals(
        List.of("/encoder/layer.0/attention/self/query_input", "onnx::MatMul_100"), q.inputs());
    assertEquals(List.of(q.name() + "_output_0"), q.outputs());
    assertEquals(2 * 7, m.nodes().size()); // six weights and the attention-score MatMul per layer
  }

  @Test
  void streamAndBytesGiveTheSameModel() {
    byte[] bytes = TinyOnnx.bert(1, 2);
    Onnx.Model a = Onnx.read(bytes, "a");
    Onnx.Model b = Onnx.read(new ByteArrayInputStream(bytes), "b");
    assertEquals(a.initializers(), b.initializers());
    assertEquals(a.nodes(), b.nodes());
  }

  @Test
  void readsTypedFieldsPackedAndUnpacked() {
    TinyOnnx o = new TinyOnnx();
    // float_data packed, dims packed
    o.rawInitializer(
        new TinyOnnx.Msg()
            .packedVarints(1, 2, 2)
            .varint(2, 1)
            .string(8, "packed")
            .packedFloats(4, 1f, 2f, 3f, -4f));
    // float_data unpacked (one fixed32 per value)
    o.rawInitializer(
        new TinyOnnx.Msg()
            .varint(1, 2)
            .varint(2, 1)
            .string(8, "unpacked")
            .fixed32(4, 0.5f)
            .fixed32(4, 1.5f));
    // int64_data, with a negative value (ten-byte varint)
    o.rawInitializer(
        new TinyOnnx.Msg()
            .varint(1, 3)
            .varint(2, 7)
            .string(8, "longs")
            .packedVarints(7, 5, -1, 1L << 40));
    // a scalar
    o.rawInitializer(new TinyOnnx.Msg().varint(2, 1).string(8, "scalar").packedFloats(4, 9f));
    Onnx.Model m = Onnx.read(o.model(), "typed.onnx");

    assertArrayEquals(new float[] {1, 2, 3, -4}, m.initializers().get("packed").toFloats());
    assertArrayEquals(new long[] {2, 2}, m.initializers().get("packed").shape());
    assertArrayEquals(new float[] {0.5f, 1.5f}, m.initializers().get("unpacked").toFloats());
    ByteBuffer longs = m.initializers().get("longs").data().order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(
        List.of(5L, -1L, 1L << 40), List.of(longs.getLong(0), longs.getLong(8), longs.getLong(16)));
    assertArrayEquals(new long[0], m.initializers().get("scalar").shape());
    assertArrayEquals(new float[] {9f}, m.initializers().get("scalar").toFloats());
  }

  @Test
  void externalDataIsAClearError() {
    TinyOnnx o = new TinyOnnx();
    o.rawInitializer(
        new TinyOnnx.Msg()
            .varint(1, 2)
            .varint(2, 1)
            .string(8, "big.weight")
            .bytes(13, new TinyOnnx.Msg().string(1, "location").string(2, "w.bin").toBytes())
            .varint(14, 1));
    assertMessage(
        () -> Onnx.read(o.model(), "ext.onnx"),
        "ext.onnx: initializer 'big.weight' keeps its data in an external file");
  }

  @Test
  void dataThatDoesNotMatchTheShapeIsAnError() {
    TinyOnnx o = new TinyOnnx();
    o.init("w", 1, new long[] {3}, new byte[8]);
    assertMessage(
        () -> Onnx.read(o.model(), "short.onnx"),
        "short.onnx: initializer 'w' holds 8 bytes but F32 [3] needs 12");
  }

  @Test
  void truncatedFileIsAClearError() {
    byte[] bytes = TinyOnnx.bert(1, 3);
    byte[] cut = Arrays.copyOf(bytes, bytes.length / 2);
    assertMessage(() -> Onnx.read(cut, "cut.onnx"), "cut.onnx: ends in the middle of a field");
  }

  @Test
  void somethingElseIsNotAModel() {
    assertMessage(() -> Onnx.read(new byte[0], "empty.onnx"), "empty.onnx: has no graph");
  }
}
