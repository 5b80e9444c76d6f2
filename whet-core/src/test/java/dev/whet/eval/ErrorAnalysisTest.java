package dev.whet.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ErrorAnalysisTest {
  private static final List<String> LABELS = List.of("billing", "refund", "other");

  @Test
  void ranksConfusionsMistakesAndClasses() {
    int[] gold = {0, 0, 0, 1, 1, 1, 2, 2};
    int[] pred = {0, 1, 1, 1, 1, 0, 2, 2};
    double[][] probs = {
      {.9, .05, .05}, {.3, .6, .1}, {.1, .85, .05}, {.1, .8, .1},
      {.2, .7, .1}, {.55, .4, .05}, {.1, .1, .8}, {0, 0, 1}
    };
    List<String> texts = List.of("a", "b", "c", "d", "e", "f", "g", "h");
    Metrics.Classification m = Metrics.classification(gold, pred, probs, LABELS);
    ErrorAnalysis ea = ErrorAnalysis.analyse(m, gold, pred, probs, texts, texts, gold, LABELS);

    assertEquals(new ErrorAnalysis.ConfusedPair("billing", "refund", 2), ea.confusedPairs().get(0));
    assertEquals(new ErrorAnalysis.ConfusedPair("refund", "billing", 1), ea.confusedPairs().get(1));
    assertEquals(3, ea.confidentMistakes().size());
    assertEquals("c", ea.confidentMistakes().get(0).text());
    assertEquals(0.85, ea.confidentMistakes().get(0).confidence(), 1e-12);
    assertEquals("billing", ea.worstClasses().get(0).label());
    assertEquals("other", ea.worstClasses().get(2).label());
    assertTrue(ea.suggestions().get(0).startsWith("Class \"billing\""), ea.suggestions().get(0));
  }

  @Test
  void findsNearDuplicatesWithDifferentLabelsOnly() {
    List<String> texts =
        List.of(
            "How do I get my money back?",
            "how do i get my money back",
            "How do I get my MONEY back!!",
            "What is the weather like today in Paris",
            "What is the weather like today in Paris?");
    int[] labels = {1, 0, 1, 2, 2};
    ErrorAnalysis.ConflictSearch s = ErrorAnalysis.conflicts(texts, labels, LABELS, 1000);
    assertFalse(s.truncated());
    assertEquals(2, s.conflicts().size()); // (0,1) and (1,2); same-label duplicates are fine
    assertEquals(1.0, s.conflicts().get(0).similarity());
  }

  @Test
  void nearDuplicateSearchStaysWithinItsBudget() {
    List<String> texts = new ArrayList<>();
    int[] labels = new int[3000];
    for (int i = 0; i < 3000; i++) {
      texts.add("the same words every time " + (i % 3));
      labels[i] = i % 2;
    }
    ErrorAnalysis.ConflictSearch s = ErrorAnalysis.conflicts(texts, labels, LABELS, 10_000);
    assertTrue(s.truncated());
    assertFalse(s.conflicts().isEmpty());
  }
}
