package dev.whet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.data.ClassificationExample;
import dev.whet.eval.LogisticRegression;
import dev.whet.eval.SparseMatrix;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** SetFit's pair drawing and the logistic-regression head as a linear layer. */
class SetFitTest {
  static List<ClassificationExample> examples() {
    List<ClassificationExample> out = new ArrayList<>();
    String[] labels = {"card_arrival", "refund", "top_up"};
    for (int i = 0; i < 12; i++) {
      out.add(new ClassificationExample("text " + i, null, List.of(labels[i % 3]), i + 1));
    }
    return out;
  }

  @Test
  void pairsShareALabelOrNotAsTheirScoreSays() {
    List<ClassificationExample> ex = examples();
    Map<String, String> labelOf = new HashMap<>();
    ex.forEach(e -> labelOf.put(e.text(), e.labels().get(0)));
    List<SetFit.Pair> pairs = SetFit.pairs(ex, 5, 1_000, true, 7);
    assertEquals(2 * 5 * ex.size(), pairs.size());
    for (SetFit.Pair p : pairs) {
      boolean same = labelOf.get(p.first()).equals(labelOf.get(p.second()));
      assertEquals(same ? 1.0 : 0.0, p.score(), p.toString());
      if (same) assertNotEquals(p.first(), p.second(), "a positive partner is another example");
    }
    assertEquals(pairs, SetFit.pairs(ex, 5, 1_000, true, 7), "seeded");
    assertEquals(25, SetFit.pairs(ex, 5, 25, true, 7).size(), "capped");

    // For the ranking loss: positives only, each labelled with its anchor's class.
    List<SetFit.Pair> positives = SetFit.pairs(ex, 5, 1_000, false, 7);
    assertEquals(5 * ex.size(), positives.size());
    for (SetFit.Pair p : positives) {
      assertEquals(labelOf.get(p.first()), labelOf.get(p.second()), p.toString());
      assertEquals(labelOf.get(p.first()), p.label());
    }
  }

  @Test
  void theHeadAsALinearLayerGivesTheRegressionsProbabilities() {
    float[][] x = {{1, 0}, {0.9f, 0.1f}, {0, 1}, {0.1f, 0.9f}, {0.5f, 0.5f}, {0.6f, 0.4f}};
    for (int[] y : new int[][] {{0, 0, 1, 1, 2, 2}, {0, 0, 1, 1, 1, 0}}) {
      int classes = 3;
      LogisticRegression lr =
          LogisticRegression.fit(SparseMatrix.fromDense(x), y, classes, 1, 1e-8, 500);
      double[][] want = lr.predictProba(SparseMatrix.fromDense(x));
      float[][] linear = lr.asLinear();
      for (int i = 0; i < x.length; i++) {
        double[] z = new double[classes];
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
          z[c] = linear[c][2] + linear[c][0] * x[i][0] + linear[c][1] * x[i][1];
          max = Math.max(max, z[c]);
        }
        double sum = 0;
        for (int c = 0; c < classes; c++) sum += Math.exp(z[c] - max);
        for (int c = 0; c < classes; c++) {
          assertEquals(want[i][c], Math.exp(z[c] - max) / sum, 1e-5, "row " + i + " class " + c);
        }
      }
      assertTrue(linear[2][2] < -1e3 || y[4] == 2, "an absent class gets no probability");
    }
  }
}
