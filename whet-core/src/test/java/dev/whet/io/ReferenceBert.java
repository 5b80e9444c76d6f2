package dev.whet.io;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.Map;

/**
 * A plain-Java BERT encoder (no engine, double accumulation), slow and obviously correct: the
 * reference that imports and faster encoders are compared with.
 */
final class ReferenceBert {
  private ReferenceBert() {}

  /**
   * Last hidden states (T, H) of one unpadded sequence: HF BertModel in eval mode, exact GELU.
   *
   * @param weights HF-named tensors (F32, F16 or BF16)
   * @param config the model's config.json
   * @param ids token ids, special tokens included
   * @param types token type ids, same length
   */
  static double[][] lastHiddenState(
      Map<String, TensorData> weights, JsonNode config, long[] ids, long[] types) {
    Map<String, float[]> w = new HashMap<>();
    weights.forEach((k, v) -> w.put(k, v.toFloats()));
    int h = config.get("hidden_size").asInt();
    int heads = config.get("num_attention_heads").asInt();
    int layers = config.get("num_hidden_layers").asInt();
    double eps = config.get("layer_norm_eps").asDouble();
    int n = ids.length;

    double[][] x = new double[n][h]; // (T, H)
    for (int t = 0; t < n; t++) {
      for (int i = 0; i < h; i++) {
        x[t][i] =
            w.get("embeddings.word_embeddings.weight")[(int) ids[t] * h + i]
                + w.get("embeddings.position_embeddings.weight")[t * h + i]
                + w.get("embeddings.token_type_embeddings.weight")[(int) types[t] * h + i];
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
}
