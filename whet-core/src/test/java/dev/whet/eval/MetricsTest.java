package dev.whet.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every metric against scikit-learn 1.2.1 on the fixtures made by
 * src/test/resources/eval/make_fixtures.py (precision_recall_fscore_support with labels=range(k)
 * and zero_division=0, confusion_matrix, log_loss, roc_auc_score, average_precision_score,
 * accuracy_score, hamming_loss, f1_score; ECE against the script's numpy implementation).
 */
class MetricsTest {
  private static final double EXACT = 1e-12;

  @Test
  void multiclassMatchesSklearnIncludingANeverPredictedClass() {
    JsonNode f = Fixtures.load("multiclass.json");
    Metrics.Classification m = compute(f);
    assertCommon(f, m);
    assertEquals(
        0.0, m.perClass().get(4).precision(), "class 4 is never predicted: zero_division=0");
    assertTrue(Double.isNaN(m.rocAuc()), "ROC-AUC is only reported for binary tasks");
  }

  @Test
  void binaryMatchesSklearnWithTiedScores() {
    JsonNode f = Fixtures.load("binary.json");
    Metrics.Classification m = compute(f);
    assertCommon(f, m);
    assertEquals(f.get("roc_auc").asDouble(), m.rocAuc(), EXACT);
    assertEquals(f.get("average_precision").asDouble(), m.averagePrecision(), EXACT);
  }

  @Test
  void multiLabelMatchesSklearn() {
    JsonNode f = Fixtures.load("multilabel.json");
    boolean[][] gold = Fixtures.booleans(f.get("gold"));
    boolean[][] pred = Fixtures.booleans(f.get("pred"));
    assertEquals(f.get("subset_accuracy").asDouble(), Metrics.subsetAccuracy(gold, pred), EXACT);
    assertEquals(f.get("hamming_loss").asDouble(), Metrics.hammingLoss(gold, pred), EXACT);
    assertEquals(f.get("f1_micro").asDouble(), Metrics.multiLabelMicroF1(gold, pred), EXACT);
    assertEquals(f.get("f1_macro").asDouble(), Metrics.multiLabelMacroF1(gold, pred), EXACT);
  }

  @Test
  void calibrationOfAPerfectlyCalibratedBinIsZero() {
    // four examples at confidence 0.75, three right: accuracy equals confidence
    double[][] probs = {{0.75, 0.25}, {0.75, 0.25}, {0.75, 0.25}, {0.75, 0.25}};
    assertEquals(0.0, Metrics.expectedCalibrationError(new int[] {0, 0, 0, 1}, probs, 15), EXACT);
  }

  private static Metrics.Classification compute(JsonNode f) {
    int k = f.get("k").asInt();
    return Metrics.classification(
        Fixtures.ints(f.get("gold")),
        Fixtures.ints(f.get("pred")),
        Fixtures.matrix(f.get("probs")),
        Metrics.indexLabels(k));
  }

  private static void assertCommon(JsonNode f, Metrics.Classification m) {
    assertEquals(f.get("accuracy").asDouble(), m.accuracy(), EXACT);
    List<Metrics.ClassScores> per = m.perClass();
    for (int c = 0; c < per.size(); c++) {
      assertEquals(f.get("precision").get(c).asDouble(), per.get(c).precision(), EXACT);
      assertEquals(f.get("recall").get(c).asDouble(), per.get(c).recall(), EXACT);
      assertEquals(f.get("f1").get(c).asDouble(), per.get(c).f1(), EXACT);
      assertEquals(f.get("support").get(c).asInt(), per.get(c).support());
    }
    assertAveraged(f.get("macro"), m.macro());
    assertAveraged(f.get("micro"), m.micro());
    assertAveraged(f.get("weighted"), m.weighted());
    for (int c = 0; c < per.size(); c++) {
      assertArrayEquals(Fixtures.ints(f.get("confusion").get(c)), m.confusion()[c]);
    }
    assertEquals(f.get("log_loss").asDouble(), m.logLoss(), 1e-12);
    assertEquals(f.get("ece").asDouble(), m.ece(), EXACT);
  }

  private static void assertAveraged(JsonNode expected, Metrics.Averaged actual) {
    assertEquals(expected.get("precision").asDouble(), actual.precision(), EXACT);
    assertEquals(expected.get("recall").asDouble(), actual.recall(), EXACT);
    assertEquals(expected.get("f1").asDouble(), actual.f1(), EXACT);
  }
}
