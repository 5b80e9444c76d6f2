package dev.whet.io;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * End-to-end proof of the import: a plain-Java BERT (no engine, double accumulation) built only
 * from the imported {@code config.json} and {@code model.safetensors} gives the same last hidden
 * states as ONNX Runtime on the original {@code .onnx}. Catches what shape checks cannot: a square
 * matrix transposed the wrong way, a wrong head count, epsilon or activation in the config.
 */
@Tag("slow")
class ImportedBertMatchesOnnxRuntimeTest {
  @TempDir Path tmp;

  /** "[CLS] hello world ! a test of [SEP]" plus a second segment, to use both token types. */
  private static final long[] IDS = {101, 7592, 2088, 999, 1037, 3231, 1997, 102, 2023, 102};

  private static final long[] TYPES = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1};

  @ParameterizedTest
  @ValueSource(strings = {"minilm-l6", "bge-small-en", "e5-small"})
  void lastHiddenStatesAgree(String name) throws Exception {
    ModelCatalog.BuiltIn b = ModelCatalog.builtIn(name);
    byte[] onnxBytes;
    byte[] tokenizer;
    try (InputStream in = resource(b.onnxResource());
        InputStream tok = resource(b.tokenizerResource())) {
      onnxBytes = in.readAllBytes();
      tokenizer = tok.readAllBytes();
    }
    Path dir = tmp.resolve(name);
    OnnxBertImporter.writeModelDir(
        Onnx.read(onnxBytes, b.onnxResource()), tokenizer, b.spec(), dir, b.onnxResource());

    float[][] expected = onnxRuntime(onnxBytes);
    double[][] actual =
        forward(
            Safetensors.readModelDir(dir),
            new ObjectMapper().readTree(dir.resolve("config.json").toFile()));

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

  // --- the reference encoder: HF BertModel, one sequence, no padding ---

  private static double[][] forward(Map<String, TensorData> weights, JsonNode config) {
    Map<String, float[]> w = new HashMap<>();
    weights.forEach((k, v) -> w.put(k, v.toFloats()));
    int h = config.get("hidden_size").asInt();
    int heads = config.get("num_attention_heads").asInt();
    int layers = config.get("num_hidden_layers").asInt();
    double eps = config.get("layer_norm_eps").asDouble();
    int n = IDS.length;

    double[][] x = new double[n][h]; // (T, H)
    for (int t = 0; t < n; t++) {
      for (int i = 0; i < h; i++) {
        x[t][i] =
            w.get("embeddings.word_embeddings.weight")[(int) IDS[t] * h + i]
                + w.get("embeddings.position_embeddings.weight")[t * h + i]
                + w.get("embeddings.token_type_embeddings.weight")[(int) TYPES[t] * h + i];
      }
    }
    x = layerNorm(x, w, "embeddings.LayerNorm", eps);
    for (int l = 0; l < layers; l++) {
      String p = "encoder.layer." + l + ".";
      double[][] q = linear(x, w, p + "attention.self.query"); // (T, H)
      double[][] k = linear(x, w, p + "attention.self.key");
      double[][] v = linear(x, w, p + "attention.self.value");
      int d = h / heads;
      double[][] ctx = new double[n][h]; // (T, H), heads side by side
      for (int hd = 0; hd < heads; hd++) {
        for (int t = 0; t < n; t++) {
          double[] scores = new double[n]; // (T,) for this head and query position
          double max = Double.NEGATIVE_INFINITY;
          for (int s = 0; s < n; s++) {
            double dot = 0;
            for (int j = 0; j < d; j++) {
              dot += q[t][hd * d + j] * k[s][hd * d + j];
            }
            scores[s] = dot / Math.sqrt(d);
            max = Math.max(max, scores[s]);
          }
          double sum = 0;
          for (int s = 0; s < n; s++) {
            scores[s] = Math.exp(scores[s] - max);
            sum += scores[s];
          }
          for (int s = 0; s < n; s++) {
            for (int j = 0; j < d; j++) {
              ctx[t][hd * d + j] += scores[s] / sum * v[s][hd * d + j];
            }
          }
        }
      }
      x =
          layerNorm(
              add(x, linear(ctx, w, p + "attention.output.dense")),
              w,
              p + "attention.output.LayerNorm",
              eps);
      double[][] inter = linear(x, w, p + "intermediate.dense"); // (T, I)
      for (double[] row : inter) {
        for (int i = 0; i < row.length; i++) {
          row[i] = 0.5 * row[i] * (1 + erf(row[i] / Math.sqrt(2))); // exact GELU
        }
      }
      x = layerNorm(add(x, linear(inter, w, p + "output.dense")), w, p + "output.LayerNorm", eps);
    }
    return x;
  }

  /** x W^T + b with W stored as HF does, (out, in). */
  private static double[][] linear(double[][] x, Map<String, float[]> w, String module) {
    float[] weight = w.get(module + ".weight");
    float[] bias = w.get(module + ".bias");
    int in = x[0].length;
    int out = bias.length;
    double[][] y = new double[x.length][out];
    for (int t = 0; t < x.length; t++) {
      for (int o = 0; o < out; o++) {
        double acc = bias[o];
        for (int i = 0; i < in; i++) {
          acc += x[t][i] * weight[o * in + i];
        }
        y[t][o] = acc;
      }
    }
    return y;
  }

  private static double[][] layerNorm(
      double[][] x, Map<String, float[]> w, String module, double eps) {
    float[] gamma = w.get(module + ".weight");
    float[] beta = w.get(module + ".bias");
    double[][] y = new double[x.length][];
    for (int t = 0; t < x.length; t++) {
      double mean = 0;
      for (double v : x[t]) {
        mean += v;
      }
      mean /= x[t].length;
      double var = 0;
      for (double v : x[t]) {
        var += (v - mean) * (v - mean);
      }
      var /= x[t].length;
      y[t] = new double[x[t].length];
      for (int i = 0; i < x[t].length; i++) {
        y[t][i] = (x[t][i] - mean) / Math.sqrt(var + eps) * gamma[i] + beta[i];
      }
    }
    return y;
  }

  private static double[][] add(double[][] a, double[][] b) {
    double[][] y = new double[a.length][a[0].length];
    for (int t = 0; t < a.length; t++) {
      for (int i = 0; i < a[t].length; i++) {
        y[t][i] = a[t][i] + b[t][i];
      }
    }
    return y;
  }

  /** erf to about 1e-7 (Abramowitz and Stegun 7.1.26); Java has none. */
  private static double erf(double x) {
    double t = 1 / (1 + 0.3275911 * Math.abs(x));
    double y =
        1
            - t
                * (0.254829592
                    + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
                * Math.exp(-x * x);
    return Math.copySign(y, x);
  }

  private static InputStream resource(String name) throws IOException {
    InputStream in =
        ImportedBertMatchesOnnxRuntimeTest.class.getClassLoader().getResourceAsStream(name);
    if (in == null) {
      throw new IOException(name + " is not on the test class path");
    }
    return in;
  }
}
