package dev.whet.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.engine.Engine;
import dev.whet.engine.Tensors;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 17, item 4: the decoder's logits against an independent plain-numpy implementation of the
 * published architecture (models/decoder-reference/make_decoder_fixtures.py, float64): TinyStories'
 * real weights, a Qwen2-style model (q/k/v biases, grouped-query attention) and a Llama 3.1-style
 * one (llama3 rope scaling, one key/value head, tied embeddings).
 */
@Tag("engine")
class DecoderReferenceTest {
  static final Path RESOURCES = Path.of("src/test/resources");

  @ParameterizedTest
  @ValueSource(strings = {"TinyStories-656K", "qwen2-tiny", "llama3-rope-tiny"})
  void logitsMatchTheNumpyReference(String name) throws Exception {
    Engine.init();
    JsonNode fixture =
        new ObjectMapper()
            .readTree(RESOURCES.resolve("models/decoder-reference/decoder_logits.json").toFile())
            .get("models")
            .get(name);
    long[] ids = new long[fixture.get("ids").size()];
    for (int i = 0; i < ids.length; i++) ids[i] = fixture.get("ids").get(i).asLong();
    try (LlamaModel m = LlamaModel.load(RESOURCES.resolve(fixture.get("dir").asText()), null);
        PointerScope scope = new PointerScope();
        NoGradGuard noGrad = new NoGradGuard()) {
      m.eval();
      Tensor logits = m.forward(Tensors.fromLongs(ids, 1, ids.length)); // (1, T, V)
      double worst = 0;
      JsonNode positions = fixture.get("positions");
      for (int p = 0; p < positions.size(); p++) {
        float[] got = Tensors.toFloats(logits.select(1, positions.get(p).asLong()).contiguous());
        JsonNode want = fixture.get("logits").get(p);
        assertEquals(want.size(), got.length);
        for (int v = 0; v < got.length; v++) {
          worst = Math.max(worst, Math.abs(got[v] - want.get(v).asDouble()));
        }
      }
      System.out.printf("%s: max |logit difference| %.2e%n", name, worst);
      assertTrue(worst <= 1e-4, name + ": logits differ by up to " + worst);
    }
  }
}
