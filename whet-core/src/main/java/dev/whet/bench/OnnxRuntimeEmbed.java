package dev.whet.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * The reference {@code whet bench embed} times Whet against: ONNX Runtime on the default model's
 * own {@code .onnx} (the file its Maven jar ships), mean-pooled in plain Java as Whet pools.
 */
public final class OnnxRuntimeEmbed {
  private OnnxRuntimeEmbed() {}

  /** {@link EmbedBench#run} with ONNX Runtime as the system under test. */
  public static EmbedBench.Result run(long[][] rows, int singleRuns, int batchRuns) {
    byte[] onnx;
    try (InputStream in = OnnxRuntimeEmbed.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
      onnx = in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        OrtSession session = env.createSession(onnx, options)) {
      return EmbedBench.run(
          "onnxruntime", r -> embed(env, session, r), rows, singleRuns, batchRuns);
    } catch (OrtException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Hidden states from ONNX Runtime, mean-pooled like Whet's. */
  private static void embed(OrtEnvironment env, OrtSession session, long[][] rows) {
    int b = rows.length;
    int t = rows[0].length;
    long[] ids = new long[b * t];
    long[] mask = new long[b * t];
    for (int i = 0; i < b; i++) {
      System.arraycopy(rows[i], 0, ids, i * t, t);
    }
    java.util.Arrays.fill(mask, 1L);
    long[] shape = {b, t};
    Map<String, OnnxTensor> inputs = new HashMap<>();
    try {
      Map<String, long[]> data =
          Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", new long[b * t]);
      for (String name : session.getInputNames()) {
        inputs.put(name, OnnxTensor.createTensor(env, LongBuffer.wrap(data.get(name)), shape));
      }
      try (OrtSession.Result result = session.run(inputs)) {
        float[][][] h = (float[][][]) result.get(0).getValue();
        for (float[][] row : h) {
          float[] v = new float[row[0].length];
          for (float[] tok : row) {
            for (int j = 0; j < v.length; j++) {
              v[j] += tok[j] / row.length;
            }
          }
        }
      }
    } catch (OrtException e) {
      throw new IllegalStateException(e);
    } finally {
      inputs.values().forEach(OnnxTensor::close);
    }
  }
}
