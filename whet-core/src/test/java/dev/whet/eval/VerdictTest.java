package dev.whet.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VerdictTest {
  private static SystemResult system(String name, String description, double f1) {
    Interval i = new Interval(f1, f1 - 0.02, f1 + 0.02);
    return new SystemResult(name, description, f1, f1, i, i, null, 1.0, null);
  }

  private static Comparison f1(String other, double est, double lo, double hi) {
    Interval d = new Interval(est, lo, hi);
    return new Comparison("fine_tuned", other, "f1_macro", d, Comparison.Outcome.of(d));
  }

  private final SystemResult ft = system("fine_tuned", "Fine-tuned model", 0.90);
  private final Map<String, SystemResult> systems = new LinkedHashMap<>();

  {
    systems.put("fine_tuned", ft);
    systems.put("tfidf_logreg", system("tfidf_logreg", "TF-IDF + logistic regression", 0.85));
    systems.put("knn", system("knn", "kNN", 0.80));
  }

  @Test
  void claimsAWinOnlyWhenEveryIntervalExcludesZero() {
    String v =
        Verdict.describe(
            ft, systems, List.of(f1("tfidf_logreg", 0.05, 0.02, 0.08), f1("knn", 0.1, 0.07, 0.13)));
    assertTrue(v.contains("beats every baseline"), v);
    assertTrue(v.contains("TF-IDF + logistic regression, by 5.0 points"), v);
  }

  @Test
  void namesACheaperBaselineInsideTheInterval() {
    String v =
        Verdict.describe(
            ft,
            systems,
            List.of(f1("tfidf_logreg", 0.01, -0.01, 0.03), f1("knn", 0.1, 0.07, 0.13)));
    assertTrue(v.contains("Within the confidence interval"), v);
    assertTrue(v.contains("TF-IDF + logistic regression (-1.0 points"), v);
    assertTrue(!v.contains("beats every baseline"), v);
  }

  @Test
  void aTieReadsAsZeroPointsNeverPlusMinusZero() {
    String v =
        Verdict.describe(
            ft,
            systems,
            List.of(f1("tfidf_logreg", -0.0, -0.05, 0.05), f1("knn", 0.1, 0.07, 0.13)));
    assertTrue(v.contains("(0.0 points relative to it, 95% interval -5.0 to +5.0)"), v);
  }

  @Test
  void saysSoWhenABaselineWins() {
    String v =
        Verdict.describe(
            ft,
            systems,
            List.of(f1("tfidf_logreg", -0.04, -0.07, -0.01), f1("knn", 0.1, 0.07, 0.13)));
    assertTrue(v.contains("TF-IDF + logistic regression beats the fine-tuned model by 4.0"), v);
    assertTrue(v.contains("did not pay off"), v);
  }

  @Test
  void theHeadlineCountsOutcomesAndNamesTheStrongestAlternative() {
    Verdict.Headline below =
        Verdict.headline(
            "fine_tuned",
            systems,
            List.of(f1("tfidf_logreg", -0.04, -0.07, -0.01), f1("knn", 0.1, 0.07, 0.13)));
    assertEquals("below", below.outcome());
    assertEquals(1, below.below());
    assertEquals(1, below.beaten());
    assertEquals("tfidf_logreg", below.best());
    assertEquals(0.85, below.bestValue(), 1e-12);
    assertEquals(0.90, below.value(), 1e-12);
    assertEquals(
        "Below a cheaper method — best: TF-IDF + logistic regression 0.850; fine-tuned 0.900",
        below.sentence());
    assertTrue(below.nextSteps().get(0).startsWith("Use TF-IDF"), below.nextSteps().toString());

    Verdict.Headline within =
        Verdict.headline(
            "fine_tuned",
            systems,
            List.of(f1("tfidf_logreg", 0.01, -0.01, 0.03), f1("knn", 0.1, 0.07, 0.13)));
    assertEquals("within", within.outcome());
    assertTrue(within.sentence().startsWith("Not shown better than a cheaper method"));

    Verdict.Headline above =
        Verdict.headline(
            "fine_tuned",
            systems,
            List.of(f1("tfidf_logreg", 0.05, 0.02, 0.08), f1("knn", 0.1, 0.07, 0.13)));
    assertEquals("above", above.outcome());
    assertEquals(2, above.beaten());
    assertTrue(above.sentence().startsWith("Beats all 2 cheaper methods"), above.sentence());

    Verdict.Headline alone = Verdict.headline("fine_tuned", systems, List.of());
    assertEquals("unchecked", alone.outcome());
    assertNull(alone.best());
  }
}
