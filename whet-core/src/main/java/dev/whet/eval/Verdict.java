package dev.whet.eval;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The plain-language answer to "did fine-tuning pay off?", from the paired intervals of one metric
 * (macro F1 for classifiers, entity F1 for taggers): better is claimed only where the interval
 * excludes zero, and a cheaper baseline whose difference interval contains zero is named as doing
 * as well.
 */
public final class Verdict {
  private Verdict() {}

  /** Describes the reference against the other systems (f1_macro comparisons only). */
  public static String describe(
      SystemResult reference, Map<String, SystemResult> systems, List<Comparison> comparisons) {
    Map<String, Score> scores = new java.util.LinkedHashMap<>();
    systems.forEach(
        (k, s) -> scores.put(k, new Score(s.description(), s.f1Macro(), s.f1MacroInterval())));
    return describe(
        "f1_macro",
        "macro F1",
        new Score(reference.description(), reference.f1Macro(), reference.f1MacroInterval()),
        scores,
        comparisons);
  }

  /** A system's score on the metric a verdict is about. */
  public record Score(String description, double value, Interval interval) {}

  /**
   * Describes the reference against the other systems on one metric.
   *
   * @param metric the comparisons' metric key ({@code f1_macro}, {@code entity_f1})
   * @param words the metric in a sentence ("macro F1", "entity F1")
   */
  public static String describe(
      String metric,
      String words,
      Score reference,
      Map<String, Score> systems,
      List<Comparison> comparisons) {
    List<Comparison> f1 = comparisons.stream().filter(c -> c.metric().equals(metric)).toList();
    String ref = reference.description();
    if (f1.isEmpty()) {
      return String.format(
          Locale.ROOT,
          "%s: %s %.3f (95%% interval %.3f to %.3f). No baseline was run to compare with.",
          ref,
          words,
          reference.value(),
          reference.interval().low(),
          reference.interval().high());
    }
    List<String> sentences = new ArrayList<>();
    Score best = systems.values().stream().max(Comparator.comparingDouble(Score::value)).get();
    sentences.add(
        String.format(
            Locale.ROOT,
            "Highest %s: %s, %.3f (95%% interval %.3f to %.3f).",
            words,
            best.description(),
            best.value(),
            best.interval().low(),
            best.interval().high()));
    List<Comparison> worse = byOutcome(f1, Comparison.Outcome.WORSE);
    List<Comparison> unclear = byOutcome(f1, Comparison.Outcome.NO_CLEAR_DIFFERENCE);
    for (Comparison c : worse) {
      sentences.add(
          String.format(
              Locale.ROOT,
              "%s beats the %s by %s points of %s (95%% interval %s to %s): fine-tuning"
                  + " did not pay off against it.",
              name(systems, c.other()),
              lower(ref),
              Evaluation.points(-c.difference().estimate()),
              words,
              Evaluation.points(-c.difference().high()),
              Evaluation.points(-c.difference().low())));
    }
    if (!unclear.isEmpty()) {
      List<String> items = new ArrayList<>();
      for (Comparison c : unclear) {
        items.add(
            String.format(
                Locale.ROOT,
                "%s (%s points relative to it, 95%% interval %s to %s)",
                name(systems, c.other()),
                signed(-c.difference().estimate()),
                signed(-c.difference().high()),
                signed(-c.difference().low())));
      }
      sentences.add(
          String.format(
              Locale.ROOT,
              "Within the confidence interval of the %s on %s: %s. On this test set %s"
                  + " as well at a fraction of the cost; fine-tuning is not shown to pay off"
                  + " against %s.",
              lower(ref),
              words,
              String.join("; ", items),
              unclear.size() == 1 ? "this cheaper method does" : "these cheaper methods do",
              unclear.size() == 1 ? "it" : "them"));
    }
    if (worse.isEmpty() && unclear.isEmpty()) {
      Comparison closest =
          f1.stream().min(Comparator.comparingDouble(c -> c.difference().estimate())).orElseThrow();
      sentences.add(
          String.format(
              Locale.ROOT,
              "The %s beats every baseline; the strongest, %s, by %s points of %s (95%%"
                  + " interval %s to %s).",
              lower(ref),
              name(systems, closest.other()),
              Evaluation.points(closest.difference().estimate()),
              words,
              Evaluation.points(closest.difference().low()),
              Evaluation.points(closest.difference().high())));
    }
    return String.join(" ", sentences);
  }

  private static List<Comparison> byOutcome(List<Comparison> cs, Comparison.Outcome outcome) {
    return cs.stream().filter(c -> c.outcome() == outcome).toList();
  }

  private static String name(Map<String, Score> systems, String key) {
    Score s = systems.get(key);
    return s == null ? key : s.description();
  }

  private static String lower(String s) {
    return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
  }

  private static String signed(double v) {
    return (v >= 0 ? "+" : "") + Evaluation.points(v);
  }
}
