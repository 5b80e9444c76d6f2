package dev.whet.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.data.Task;
import dev.whet.engine.Tensors;
import dev.whet.io.Json;
import dev.whet.io.Safetensors;
import dev.whet.io.TensorData;
import dev.whet.io.Tokenizer;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: a token classifier in Transformers' layout ({@code RobertaForTokenClassification}, made
 * by models/encoder-reference/make_token_classifier_fixture.py with an independent plain-numpy
 * encoder, since Transformers cannot be installed here) loads as it is, gives the reference's
 * logits and labels, and is saved back in the same layout: same tensor names and values, the
 * architecture, {@code id2label} and {@code label2id} Transformers reads. So a model Whet trains
 * and saves loads there as the same classifier and predicts the same labels.
 */
class TokenClassifierExportTest {
  static final Path RESOURCES = Path.of("src/test/resources/models/encoder-reference");

  @TempDir Path tmp;

  private Path fixtureModel() throws Exception {
    Path dir = tmp.resolve("roberta-tiny-ner");
    Files.createDirectories(dir);
    for (String f : List.of("config.json", "model.safetensors")) {
      Files.copy(RESOURCES.resolve("roberta-tiny-ner").resolve(f), dir.resolve(f));
    }
    // The fixture feeds token ids; any tokenizer file makes the directory loadable.
    try (InputStream in = getClass().getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
      Files.copy(in, dir.resolve("tokenizer.json"));
    }
    return dir;
  }

  @Test
  void aTransformersTokenClassifierLoadsAndPredictsItsReferenceLabels() throws Exception {
    JsonNode fixture = Json.MAPPER.readTree(RESOURCES.resolve("token_classifier.json").toFile());
    Path dir = fixtureModel();
    assertEquals(ModelRef.Kind.TAGGER, ModelRef.kindOf(dir));
    try (ClassifierModel m = ClassifierModel.load(dir)) {
      assertEquals(Task.TOKEN_CLASSIFICATION, m.task());
      assertEquals(List.of("O", "B-PER", "I-PER", "B-LOC", "I-LOC"), m.labels());
      long[][] rows = new long[fixture.get("ids").size()][];
      for (int r = 0; r < rows.length; r++) {
        JsonNode ids = fixture.get("ids").get(r);
        rows[r] = new long[ids.size()];
        for (int t = 0; t < rows[r].length; t++) rows[r][t] = ids.get(t).asLong();
      }
      // Padding (id 1) is what the reference masked; pad the batch with it.
      Tokenizer.Batch batch = Tokenizer.Batch.pad(rows, null, 1);
      long[] mask = batch.mask();
      for (int i = 0; i < mask.length; i++) mask[i] = batch.ids()[i] == 1 ? 0 : 1;
      double worst = 0;
      try (PointerScope scope = new PointerScope();
          InferenceMode guard = new InferenceMode()) {
        Tensor logits = m.logits(batch); // (B, T, C)
        for (int r = 0; r < rows.length; r++) {
          List<String> labels = new ArrayList<>();
          for (int t = 0; t < rows[r].length; t++) {
            float[] got = Tensors.toFloats(logits.select(0, r).select(0, t).contiguous());
            int arg = 0;
            for (int c = 0; c < got.length; c++) {
              double want = fixture.get("logits").get(r).get(t).get(c).asDouble();
              worst = Math.max(worst, Math.abs(got[c] - want));
              arg = got[c] > got[arg] ? c : arg;
            }
            labels.add(m.labels().get(arg));
          }
          for (int t = 0; t < rows[r].length; t++) {
            if (mask[r * batch.width() + t] == 1) {
              assertEquals(
                  fixture.get("labels").get(r).get(t).asText(),
                  labels.get(t),
                  "row " + r + " token " + t);
            }
          }
        }
      }
      System.out.printf("token classifier: max |logit difference| %.2e%n", worst);
      assertTrue(worst <= 1e-4, "logits differ by up to " + worst);
    }
  }

  @Test
  void savedInTransformersLayoutWithTheSameTensorsAndLabels() throws Exception {
    Path dir = fixtureModel();
    Path saved = tmp.resolve("saved");
    try (ClassifierModel m = ClassifierModel.load(dir)) {
      m.save(saved, Map.of());
    }
    JsonNode before = Json.MAPPER.readTree(dir.resolve("config.json").toFile());
    JsonNode after = Json.MAPPER.readTree(saved.resolve("config.json").toFile());
    assertEquals("RobertaForTokenClassification", after.get("architectures").get(0).asText());
    assertEquals(before.get("id2label"), after.get("id2label"));
    assertEquals(before.get("label2id"), after.get("label2id"));
    assertFalse(after.has("whet_note"), "a token classifier predicts the same in Transformers");
    Map<String, TensorData> want = Safetensors.readModelDir(dir);
    Map<String, TensorData> got = Safetensors.readModelDir(saved);
    assertEquals(want.keySet(), got.keySet(), "Transformers' names, nothing more or less");
    for (String name : want.keySet()) {
      assertEquals(
          java.util.Arrays.toString(want.get(name).shape()),
          java.util.Arrays.toString(got.get(name).shape()),
          name);
      assertTrue(
          java.util.Arrays.equals(want.get(name).toFloats(), got.get(name).toFloats()), name);
    }
    // And Whet reads its own save as the same tagger.
    assertEquals(ModelRef.Kind.TAGGER, ModelRef.kindOf(saved));
    try (ClassifierModel m = ClassifierModel.load(saved)) {
      assertEquals(List.of("O", "B-PER", "I-PER", "B-LOC", "I-LOC"), m.labels());
    }
  }
}
