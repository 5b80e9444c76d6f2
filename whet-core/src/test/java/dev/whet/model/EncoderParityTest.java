package dev.whet.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.io.ModelCatalog;
import dev.whet.io.Tokenizer;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The heart of the foundation issue: Whet's libtorch encoder, built from the imported weights,
 * computes what the original {@code .onnx} computes under ONNX Runtime, on the same token ids.
 */
@Tag("engine")
@Tag("slow")
class EncoderParityTest {
  @TempDir static Path home;
  private static String previousHome;

  @BeforeAll
  static void isolatedHome() {
    previousHome = System.getProperty("whet.home");
    System.setProperty("whet.home", home.toString());
  }

  @AfterAll
  static void restoreHome() {
    if (previousHome == null) {
      System.clearProperty("whet.home");
    } else {
      System.setProperty("whet.home", previousHome);
    }
  }

  static List<String> texts() throws Exception {
    ObjectMapper json = new ObjectMapper();
    List<String> texts = new ArrayList<>();
    try (InputStream in = EncoderParityTest.class.getResourceAsStream("/tokenization/texts.txt");
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        texts.add(json.readValue(line, String.class));
      }
    }
    return texts;
  }

  @ParameterizedTest
  @CsvSource({
    "minilm-l6, /all-minilm-l6-v2.onnx",
    "bge-small-en, /bge-small-en-v1.5.onnx",
    "e5-small, /e5-small-v2.onnx"
  })
  void hiddenStatesAndEmbeddingsMatchOnnxRuntime(String name, String onnxResource)
      throws Exception {
    List<String> texts = texts();
    assertTrue(texts.size() >= 20);
    byte[] onnx;
    try (InputStream in = EncoderParityTest.class.getResourceAsStream(onnxResource)) {
      onnx = in.readAllBytes();
    }
    try (Encoder encoder = Encoder.load(ModelCatalog.resolve(name), 0);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession session = env.createSession(onnx, new OrtSession.SessionOptions())) {
      Tokenizer tok = encoder.tokenizer();
      double worstHidden = 0;
      double worstCosine = 1;
      // Mixed-length batches exercise padding: the texts up to 128 tokens in one batch, then every
      // text in threes (a batch padded to 512 costs seconds on two cores, so only small ones are).
      List<List<String>> batches = new ArrayList<>();
      batches.add(texts.stream().filter(t -> tok.encode(t).length <= 128).toList());
      for (int start = 0; start < texts.size(); start += 3) {
        batches.add(texts.subList(start, Math.min(texts.size(), start + 3)));
      }
      for (List<String> chunk : batches) {
        Tokenizer.Batch batch = tok.batch(chunk);
        float[][][] reference = runOnnx(env, session, batch);
        float[][][] ours;
        float[][] embeddings = encoder.embed(chunk);
        try (var scope = new org.bytedeco.javacpp.PointerScope();
            var guard = new org.bytedeco.pytorch.InferenceMode()) {
          ours = toCube(encoder.hidden(batch), batch);
        }
        for (int i = 0; i < batch.rows(); i++) {
          for (int t = 0; t < batch.lengths()[i]; t++) {
            for (int h = 0; h < ours[i][t].length; h++) {
              worstHidden = Math.max(worstHidden, Math.abs(ours[i][t][h] - reference[i][t][h]));
            }
          }
          float[] expected = pool(encoder.pooling(), reference[i], batch.lengths()[i]);
          worstCosine = Math.min(worstCosine, cosine(expected, embeddings[i]));
        }
      }
      System.out.printf(
          "%s: max |hidden diff| %.3g, min cosine %.8f%n", name, worstHidden, worstCosine);
      assertTrue(worstHidden <= 1e-4, name + ": max abs hidden difference " + worstHidden);
      assertTrue(worstCosine >= 0.9999, name + ": min embedding cosine " + worstCosine);
    }
  }

  /**
   * The default model with bf16 weights (what {@code whet embed} serves where bf16 is native)
   * against ONNX Runtime's fp32 embeddings: a short batch, since emulated bf16 (AVX2-only CPUs) is
   * about a hundred times slower.
   */
  @Test
  void bf16EmbeddingsStayWithinCosine0999OfOnnxRuntime() throws Exception {
    List<String> texts = texts().subList(0, 12);
    byte[] onnx;
    try (InputStream in = EncoderParityTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
      onnx = in.readAllBytes();
    }
    try (Encoder encoder = Encoder.load(ModelCatalog.resolve("minilm-l6"), 128, true);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession session = env.createSession(onnx, new OrtSession.SessionOptions())) {
      assertEquals("bf16", encoder.precision());
      Tokenizer.Batch batch = encoder.tokenizer().batch(texts);
      float[][][] reference = runOnnx(env, session, batch);
      float[][] embeddings = encoder.embed(texts);
      double worst = 1;
      double differs = 0;
      for (int i = 0; i < batch.rows(); i++) {
        float[] expected = pool(encoder.pooling(), reference[i], batch.lengths()[i]);
        double c = cosine(expected, embeddings[i]);
        worst = Math.min(worst, c);
        differs = Math.max(differs, 1 - c);
      }
      System.out.printf("minilm-l6 bf16: min cosine %.6f%n", worst);
      assertTrue(worst >= 0.999, "min bf16 embedding cosine " + worst);
      assertTrue(differs > 1e-7, "the weights really are bf16: not bit-equal to fp32");
    }
  }

  private static float[][][] runOnnx(OrtEnvironment env, OrtSession session, Tokenizer.Batch b)
      throws Exception {
    long[] shape = {b.rows(), b.width()};
    Map<String, OnnxTensor> inputs = new HashMap<>();
    Map<String, long[]> data =
        Map.of("input_ids", b.ids(), "attention_mask", b.mask(), "token_type_ids", b.typeIds());
    for (String input : session.getInputNames()) {
      inputs.put(input, OnnxTensor.createTensor(env, LongBuffer.wrap(data.get(input)), shape));
    }
    try (OrtSession.Result result = session.run(inputs)) {
      return (float[][][]) result.get(0).getValue();
    } finally {
      inputs.values().forEach(OnnxTensor::close);
    }
  }

  private static float[][][] toCube(org.bytedeco.pytorch.Tensor t, Tokenizer.Batch b) {
    float[] flat = dev.whet.engine.Tensors.toFloats(t);
    int h = flat.length / (b.rows() * b.width());
    float[][][] out = new float[b.rows()][b.width()][h];
    for (int i = 0; i < b.rows(); i++) {
      for (int j = 0; j < b.width(); j++) {
        System.arraycopy(flat, (i * b.width() + j) * h, out[i][j], 0, h);
      }
    }
    return out;
  }

  /** The pooling computed independently, in plain Java, from the reference hidden states. */
  private static float[] pool(Pooling pooling, float[][] hidden, int length) {
    int h = hidden[0].length;
    float[] v = new float[h];
    if (pooling.mode() == Pooling.Mode.CLS) {
      v = hidden[0].clone();
    } else {
      for (int t = 0; t < length; t++) {
        for (int j = 0; j < h; j++) {
          v[j] += hidden[t][j] / length;
        }
      }
    }
    return v; // cosine below is scale-invariant, so normalisation needs no check of its own
  }

  static double cosine(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }

  @ParameterizedTest
  @CsvSource({"minilm-l6", "bge-small-en", "e5-small"})
  void normalisedEmbeddingsHaveUnitLength(String name) throws Exception {
    try (Encoder encoder = Encoder.load(ModelCatalog.resolve(name), 0)) {
      assertTrue(encoder.pooling().normalize(), name + " is meant to be used normalised");
      for (float[] e : encoder.embed(List.of("hello world", "a second text"))) {
        double n = 0;
        for (float x : e) {
          n += x * x;
        }
        assertEquals(1.0, Math.sqrt(n), 1e-5);
      }
      assertArrayEquals(
          encoder.embed(List.of("hello world"))[0],
          encoder.embed(List.of("hello world", "a much longer text that forces padding here"))[0],
          1e-5f,
          "padding must not change an embedding");
    }
  }
}
