package dev.whet.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Reads the reference values in src/test/resources/eval, written by make_fixtures.py with
 * scikit-learn (versions recorded in each file and in the folder's README).
 */
final class Fixtures {
  private Fixtures() {}

  static JsonNode load(String name) {
    try (InputStream in = Fixtures.class.getResourceAsStream("/eval/" + name)) {
      if (in == null) throw new IllegalStateException("missing test resource /eval/" + name);
      return new ObjectMapper().readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
    return out;
  }

  static double[] doubles(JsonNode array) {
    double[] out = new double[array.size()];
    for (int i = 0; i < out.length; i++) out[i] = array.get(i).asDouble();
    return out;
  }

  static double[][] matrix(JsonNode rows) {
    double[][] out = new double[rows.size()][];
    for (int i = 0; i < out.length; i++) out[i] = doubles(rows.get(i));
    return out;
  }

  static float[][] floats(JsonNode rows) {
    float[][] out = new float[rows.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = new float[rows.get(i).size()];
      for (int j = 0; j < out[i].length; j++) out[i][j] = (float) rows.get(i).get(j).asDouble();
    }
    return out;
  }

  static boolean[][] booleans(JsonNode rows) {
    boolean[][] out = new boolean[rows.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = new boolean[rows.get(i).size()];
      for (int j = 0; j < out[i].length; j++) out[i][j] = rows.get(i).get(j).asInt() != 0;
    }
    return out;
  }
}
