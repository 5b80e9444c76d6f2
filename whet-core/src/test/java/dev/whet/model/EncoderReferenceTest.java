package dev.whet.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.engine.Engine;
import dev.whet.engine.Tensors;
import dev.whet.io.Safetensors;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 17, item 2: RoBERTa and XLM-R encoders against an independent plain-numpy implementation of
 * the published architecture (models/encoder-reference/make_encoder_fixtures.py, float64):
 * positions that count real tokens only and start after the padding id, and padding masked as keys.
 * BERT itself is held to ONNX Runtime in {@link EncoderParityTest}.
 */
@Tag("engine")
class EncoderReferenceTest {
  static final Path RESOURCES = Path.of("src/test/resources");

  @ParameterizedTest
  @ValueSource(strings = {"roberta-tiny", "xlm-roberta-tiny"})
  void hiddenStatesMatchTheNumpyReference(String name) throws Exception {
    Engine.init();
    JsonNode fixture =
        new ObjectMapper()
            .readTree(RESOURCES.resolve("models/encoder-reference/encoder_hidden.json").toFile())
            .get("models")
            .get(name);
    Path dir = RESOURCES.resolve(fixture.get("dir").asText());
    EncoderConfig config = EncoderConfig.read(dir.resolve("config.json"));
    assertEquals(config.padTokenId() + 1, config.positionOffset(), "RoBERTa's positions");
    int rows = fixture.get("ids").size();
    int width = fixture.get("ids").get(0).size();
    long[] ids = new long[rows * width];
    long[] mask = new long[rows * width];
    for (int r = 0; r < rows; r++) {
      for (int t = 0; t < width; t++) {
        ids[r * width + t] = fixture.get("ids").get(r).get(t).asLong();
        mask[r * width + t] = ids[r * width + t] == config.padTokenId() ? 0 : 1;
      }
    }
    try (BertModel m = BertModel.of(config, null);
        PointerScope scope = new PointerScope();
        NoGradGuard noGrad = new NoGradGuard()) {
      Weights.load(m, Safetensors.readModelDir(dir), Encoder.PREFIXES, dir);
      m.eval();
      Tensor hidden =
          m.forward(
              Tensors.fromLongs(ids, rows, width), Tensors.fromLongs(mask, rows, width), null);
      double worst = 0;
      for (int r = 0; r < rows; r++) {
        for (int t = 0; t < width; t++) {
          if (mask[r * width + t] == 0) continue; // padding's own states are not defined
          float[] got = Tensors.toFloats(hidden.select(0, r).select(0, t).contiguous());
          JsonNode want = fixture.get("hidden").get(r).get(t);
          for (int j = 0; j < got.length; j++) {
            worst = Math.max(worst, Math.abs(got[j] - want.get(j).asDouble()));
          }
        }
      }
      System.out.printf("%s: max |hidden state difference| %.2e%n", name, worst);
      assertTrue(worst <= 1e-4, name + ": hidden states differ by up to " + worst);
    }
  }

  /** A saved RoBERTa classifier names its tensors as Transformers' RoBERTa classes do. */
  @org.junit.jupiter.api.Test
  void aRobertaClassifierIsSavedUnderRobertaNames(@org.junit.jupiter.api.io.TempDir Path tmp)
      throws Exception {
    Path base = tmp.resolve("base");
    java.nio.file.Files.createDirectories(base);
    Path src = RESOURCES.resolve("models/encoder-reference/roberta-tiny");
    for (String f : java.util.List.of("config.json", "model.safetensors")) {
      java.nio.file.Files.copy(src.resolve(f), base.resolve(f));
    }
    try (var in = getClass().getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
      java.nio.file.Files.copy(in, base.resolve("tokenizer.json"));
    }
    Path out = tmp.resolve("model");
    float[] before;
    try (ClassifierModel c =
        ClassifierModel.fromBase(
            base,
            "classify",
            java.util.List.of("a", "b"),
            16,
            0.0,
            0.0,
            new Pooling(Pooling.Mode.MEAN, false),
            null,
            new java.util.LinkedHashMap<>())) {
      c.save(out, java.util.Map.of());
      before =
          Tensors.toFloats(
              Weights.parameters(c.module()).get("bert.encoder.layer.1.output.dense.weight"));
    }
    var names = Safetensors.readModelDir(out).keySet();
    assertTrue(names.contains("roberta.encoder.layer.1.output.dense.weight"), names.toString());
    assertTrue(names.stream().noneMatch(n -> n.startsWith("bert.")), names.toString());
    JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
    assertEquals("RobertaForSequenceClassification", config.get("architectures").get(0).asText());
    try (ClassifierModel loaded = ClassifierModel.load(out)) {
      float[] after =
          Tensors.toFloats(
              Weights.parameters(loaded.module()).get("bert.encoder.layer.1.output.dense.weight"));
      org.junit.jupiter.api.Assertions.assertArrayEquals(before, after, "read back");
    }
  }
}
