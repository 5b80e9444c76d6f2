package dev.whet.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.WhetHome;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Imports the three real built-in models (their jars are test dependencies), each once, and checks
 * the HF directory against the ONNX file it came from.
 */
class OnnxBertImporterTest {
  @TempDir static Path home;

  /** "[CLS] hello world ! a test of [SEP]" plus a second segment, to use both token types. */
  private static final long[] IDS = {101, 7592, 2088, 999, 1037, 3231, 1997, 102, 2023, 102};

  private static final long[] TYPES = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1};

  @BeforeAll
  static void isolate() {
    System.setProperty("whet.home", home.toString());
  }

  @AfterAll
  static void restore() {
    System.clearProperty("whet.home");
  }

  /** The default model, through the catalog as a user gets it. */
  @Test
  @Tag("slow")
  void defaultModelImportsOnFirstResolve() throws Exception {
    ModelCatalog.BuiltIn b = ModelCatalog.builtIn(ModelCatalog.DEFAULT);
    byte[] onnxBytes = bytes(b.onnxResource());
    Onnx.Model onnx = Onnx.read(onnxBytes, b.onnxResource());

    Path dir = ModelCatalog.resolve(ModelCatalog.DEFAULT);

    assertEquals(WhetHome.models().resolve("minilm-l6"), dir);
    checkImported(b.sizes(), onnx, dir, bytes(b.tokenizerResource()));
    JsonNode pooling = json(dir.resolve("1_Pooling/config.json"));
    assertTrue(pooling.get("pooling_mode_mean_tokens").asBoolean());
    assertFalse(pooling.get("pooling_mode_cls_token").asBoolean());
    assertEquals(256, json(dir.resolve("sentence_bert_config.json")).get("max_seq_length").asInt());
    ModelCatalog.Entry e = ModelCatalog.list().get(0);
    assertTrue(e.ready());
    assertEquals(b.sizes().parameters(), e.parameters());
    assertEquals(dir, ModelCatalog.resolve("minilm-l6"), "second resolve finds it ready");
    computesWhatOnnxRuntimeComputes(b.name(), onnxBytes, dir);
  }

  /** The same checks on a tiny synthetic export, so the fast suite covers the mapping too. */
  @Test
  void tinyExportMapsEveryWeight() throws IOException {
    Onnx.Model onnx = Onnx.read(TinyOnnx.bert(3, 11), "tiny.onnx");
    Path dir = home.resolve("tiny");
    OnnxBertImporter.Sizes sizes =
        OnnxBertImporter.writeModelDir(
            onnx,
            TinyOnnx.tokenizerJson(),
            new OnnxBertImporter.Spec(12, OnnxBertImporter.Pooling.MEAN, true, 8),
            dir,
            "tiny.onnx");
    assertEquals(new OnnxBertImporter.Sizes(10, 8, 2, 12, 16, 3, false), sizes);
    checkImported(sizes, onnx, dir, TinyOnnx.tokenizerJson());
    assertEquals(
        List.copyOf(sizes.shapes().keySet()),
        List.copyOf(OnnxBertImporter.hfWeights(onnx, "tiny.onnx").keySet()),
        "HF module order");
  }

  @Test
  void missingTensorIsNamed() {
    TinyOnnx o = new TinyOnnx();
    java.util.Random rnd = new java.util.Random(1);
    o.floats("embeddings.word_embeddings.weight", new long[] {10, 12}, rnd);
    o.floats("embeddings.position_embeddings.weight", new long[] {8, 12}, rnd);
    o.floats("embeddings.token_type_embeddings.weight", new long[] {2, 12}, rnd);
    o.floats("embeddings.LayerNorm.weight", new long[] {12}, rnd);
    o.floats("embeddings.LayerNorm.bias", new long[] {12}, rnd);
    o.matmul("/encoder/layer.0/intermediate/dense", 12, 16, rnd);
    Onnx.Model m = Onnx.read(o.model(), "partial.onnx");
    SafetensorsTest.assertMessage(
        () -> OnnxBertImporter.hfWeights(m, "partial.onnx"),
        "partial.onnx: tensor 'encoder.layer.0.attention.self.query.weight' is missing");
  }

  @Test
  void shapeThatContradictsTheOthersIsNamed() {
    TinyOnnx o = new TinyOnnx();
    java.util.Random rnd = new java.util.Random(1);
    o.floats("embeddings.word_embeddings.weight", new long[] {10, 12}, rnd);
    o.floats("embeddings.position_embeddings.weight", new long[] {8, 12}, rnd);
    o.floats("embeddings.token_type_embeddings.weight", new long[] {2, 12}, rnd);
    o.floats("embeddings.LayerNorm.weight", new long[] {11}, rnd);
    o.floats("embeddings.LayerNorm.bias", new long[] {12}, rnd);
    o.matmul("/encoder/layer.0/intermediate/dense", 12, 16, rnd);
    Onnx.Model m = Onnx.read(o.model(), "odd.onnx");
    SafetensorsTest.assertMessage(
        () -> OnnxBertImporter.hfWeights(m, "odd.onnx"),
        "odd.onnx: tensor 'embeddings.LayerNorm.weight' has shape [11] but the model's other"
            + " tensors imply [12]");
  }

  @Test
  void tokenizerThatDoesNotParseIsAnError() {
    Onnx.Model onnx = Onnx.read(TinyOnnx.bert(1, 12), "tiny.onnx");
    SafetensorsTest.assertMessage(
        () ->
            OnnxBertImporter.writeModelDir(
                onnx,
                "{\"model\": ".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                new OnnxBertImporter.Spec(12, OnnxBertImporter.Pooling.CLS, true, 8),
                home.resolve("badtok"),
                "tiny.onnx"),
        "tiny.onnx: its tokenizer JSON does not parse");
  }

  @Test
  @Tag("slow")
  void bgeSmall() throws Exception {
    importDirectly("bge-small-en", true);
  }

  @Test
  @Tag("slow")
  void e5Small() throws Exception {
    importDirectly("e5-small", false);
  }

  private void importDirectly(String name, boolean cls) throws Exception {
    ModelCatalog.BuiltIn b = ModelCatalog.builtIn(name);
    byte[] onnxBytes = bytes(b.onnxResource());
    Onnx.Model onnx = Onnx.read(onnxBytes, b.onnxResource());
    Path dir = home.resolve("direct-" + name);
    byte[] tokenizer = bytes(b.tokenizerResource());
    OnnxBertImporter.writeModelDir(onnx, tokenizer, b.spec(), dir, b.onnxResource());
    checkImported(b.sizes(), onnx, dir, tokenizer);
    assertEquals(
        cls, json(dir.resolve("1_Pooling/config.json")).get("pooling_mode_cls_token").asBoolean());
    computesWhatOnnxRuntimeComputes(name, onnxBytes, dir);
  }

  /**
   * End-to-end proof of an import: the reference encoder built only from the imported config.json
   * and model.safetensors gives the last hidden states ONNX Runtime gives on the original .onnx.
   * Catches what shape checks cannot: a square matrix transposed the wrong way, a wrong head count,
   * epsilon or activation in the config.
   */
  private static void computesWhatOnnxRuntimeComputes(String name, byte[] onnx, Path dir)
      throws IOException, OrtException {
    float[][] expected = onnxRuntime(onnx);
    double[][] actual =
        ReferenceBert.lastHiddenState(
            Safetensors.readModelDir(dir), json(dir.resolve("config.json")), IDS, TYPES);
    double maxDiff = 0;
    for (int t = 0; t < IDS.length; t++) {
      for (int i = 0; i < expected[t].length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(expected[t][i] - actual[t][i]));
      }
    }
    System.out.printf("%s: max |onnxruntime - imported| = %.3g%n", name, maxDiff);
    assertTrue(maxDiff < 1e-4, name + ": max difference " + maxDiff);
  }

  private static float[][] onnxRuntime(byte[] model) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    long[] mask = new long[IDS.length];
    Arrays.fill(mask, 1);
    try (OrtSession s = env.createSession(model, new OrtSession.SessionOptions());
        OnnxTensor ids = OnnxTensor.createTensor(env, new long[][] {IDS});
        OnnxTensor att = OnnxTensor.createTensor(env, new long[][] {mask});
        OnnxTensor typ = OnnxTensor.createTensor(env, new long[][] {TYPES});
        OrtSession.Result r =
            s.run(Map.of("input_ids", ids, "attention_mask", att, "token_type_ids", typ))) {
      return ((float[][][]) r.get(0).getValue())[0];
    }
  }

  /** Config, tokenizer and every tensor of {@code dir} against the ONNX model. */
  private static void checkImported(
      OnnxBertImporter.Sizes s, Onnx.Model onnx, Path dir, byte[] tokenizer) throws IOException {
    JsonNode config = json(dir.resolve("config.json"));
    assertEquals("BertModel", config.get("architectures").get(0).asText());
    assertEquals("bert", config.get("model_type").asText());
    assertEquals(s.vocabSize(), config.get("vocab_size").asInt());
    assertEquals(s.hiddenSize(), config.get("hidden_size").asInt());
    assertEquals(s.numLayers(), config.get("num_hidden_layers").asInt());
    assertEquals(12, config.get("num_attention_heads").asInt());
    assertEquals(s.intermediateSize(), config.get("intermediate_size").asInt());
    assertEquals(s.maxPositions(), config.get("max_position_embeddings").asInt());
    assertEquals(s.typeVocabSize(), config.get("type_vocab_size").asInt());
    assertEquals("gelu", config.get("hidden_act").asText());
    assertEquals(1e-12, config.get("layer_norm_eps").asDouble());

    assertArrayEquals(tokenizer, Files.readAllBytes(dir.resolve("tokenizer.json")));
    JsonNode modules = json(dir.resolve("modules.json"));
    assertEquals("1_Pooling", modules.get(1).get("path").asText());
    assertEquals("sentence_transformers.models.Normalize", modules.get(2).get("type").asText());
    assertEquals(
        s.hiddenSize(),
        json(dir.resolve("1_Pooling/config.json")).get("word_embedding_dimension").asInt());

    Map<String, TensorData> w = Safetensors.readModelDir(dir);
    Map<String, long[]> expected = s.shapes();
    assertEquals(expected.keySet(), w.keySet());
    for (Map.Entry<String, long[]> e : expected.entrySet()) {
      assertArrayEquals(e.getValue(), w.get(e.getKey()).shape(), e.getKey());
      assertEquals(DType.F32, w.get(e.getKey()).dtype());
    }

    // Biases, norms and embeddings are the ONNX initializers byte for byte.
    Map<String, TensorData> init = onnx.initializers();
    for (String n : w.keySet()) {
      if (init.containsKey(n)) {
        assertEquals(init.get(n).data(), w.get(n).data(), n);
      }
    }
    // Weight matrices are the MatMul operands, transposed.
    int matrices = 0;
    for (Onnx.Node node : onnx.nodes()) {
      TensorData src = node.inputs().size() == 2 ? init.get(node.inputs().get(1)) : null;
      if (!node.opType().equals("MatMul") || src == null) {
        continue;
      }
      String hf =
          node.name().substring(1, node.name().length() - "/MatMul".length()).replace('/', '.')
              + ".weight";
      TensorData dst = w.get(hf);
      assertNotNull(dst, hf);
      long[] ss = src.shape();
      assertArrayEquals(new long[] {ss[1], ss[0]}, dst.shape(), hf);
      float[] a = src.toFloats();
      float[] t = dst.toFloats();
      int in = (int) ss[0];
      int out = (int) ss[1];
      for (int i = 0; i < in; i++) {
        for (int o = 0; o < out; o++) {
          if (a[i * out + o] != t[o * in + i]) {
            throw new AssertionError(hf + " differs at (" + o + ", " + i + ")");
          }
        }
      }
      matrices++;
    }
    assertEquals(6 * s.numLayers(), matrices);
  }

  private static byte[] bytes(String resource) throws IOException {
    try (InputStream in = resource(resource)) {
      return in.readAllBytes();
    }
  }

  private static InputStream resource(String name) {
    InputStream in = OnnxBertImporterTest.class.getClassLoader().getResourceAsStream(name);
    assertNotNull(in, name + " on the test class path");
    return in;
  }

  private static JsonNode json(Path file) throws IOException {
    return new ObjectMapper().readTree(file.toFile());
  }
}
