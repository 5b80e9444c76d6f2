package dev.whet.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EvaluationTest {
  private static final List<String> LABELS = List.of("neg", "pos");
  private static final List<String> TRAIN =
      List.of("good film", "great acting", "bad plot", "awful film", "good fun", "bad acting");
  private static final int[] TRAIN_Y = {1, 1, 0, 0, 1, 0};
  private static final List<String> TEST = List.of("good plot", "awful acting", "great fun");
  private static final int[] GOLD = {1, 0, 1};

  @Test
  void withoutEmbeddingsOnlyTheTextBaselinesRun() {
    Evaluation ev = new Evaluation(LABELS, GOLD, TEST, TRAIN, TRAIN_Y);
    ev.add("fine_tuned", "Fine-tuned model", new int[] {1, 0, 1}, null, Double.NaN);
    ev.addBaselines(null, null);
    EvalResult r = ev.result("run-1", "fine_tuned", null, null, Map.of());
    assertEquals(
        List.of("fine_tuned", "tfidf_logreg", "tfidf_char_logreg"),
        List.copyOf(r.baselines().keySet()));
    assertEquals(1.0, r.accuracy());
    assertEquals(3, r.n());
    assertEquals(4, r.comparisons().size()); // f1_macro and accuracy against each
    assertTrue(r.timings().containsKey("system.tfidf_logreg"));
    // Each says how it was tuned: six rows, three of a class, allow three folds.
    String setting = r.baselines().get("tfidf_logreg").setting();
    assertTrue(setting.startsWith("word 1–2-grams, sublinear tf"), setting);
    assertTrue(setting.contains("chosen by 3-fold cross-validation on the training data"), setting);
    assertTrue(r.baselines().get("fine_tuned").setting() == null);
  }

  @Test
  void aloneTheVerdictSaysNothingWasCompared() {
    Evaluation ev = new Evaluation(LABELS, GOLD, TEST, TRAIN, TRAIN_Y);
    ev.add("fine_tuned", "Fine-tuned model", new int[] {1, 1, 1}, null, 1);
    EvalResult r = ev.result("run-1", "fine_tuned", null, null, Map.of());
    assertTrue(r.verdict().contains("No baseline was run"), r.verdict());
  }

  @Test
  void rejectsLabelIdsOutsideTheLabelListAndUnknownReferences() {
    Evaluation ev = new Evaluation(LABELS, GOLD, TEST, TRAIN, TRAIN_Y);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> ev.add("x", "x", new int[] {0, 2, 1}, null, 0));
    assertTrue(e.getMessage().contains("x predictions[1] = 2"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> ev.result("run", "fine_tuned", null, null, Map.of()));
  }
}
