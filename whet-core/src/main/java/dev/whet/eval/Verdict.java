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
    return describe(
        "f1_macro",
        "macro F1",
        new Score(reference.description(), reference.f1Macro(), reference.f1MacroInterval()),
        macroF1(systems),
        comparisons);
  }

  /** The headline of the reference against the other systems (f1_macro comparisons only). */
  public static Headline headline(
      String reference, Map<String, SystemResult> systems, List<Comparison> comparisons) {
    return headline("f1_macro", "macro F1", reference, macroF1(systems), comparisons);
  }

  private static Map<String, Score> macroF1(Map<String, SystemResult> systems) {
    Map<String, Score> scores = new java.util.LinkedHashMap<>();
    systems.forEach(
        (k, s) -> scores.put(k, new Score(s.description(), s.f1Macro(), s.f1MacroInterval())));
    return scores;
  }

  /** A system's score on the metric a verdict is about. */
  public record Score(String description, double value, Interval interval) {}

  /**
   * How a difference in the verdict's metric is written: {@link #POINTS} of a score in [0, 1]
   * (macro F1 0.034 higher: "3.4 points"), or {@link #NATS} of a mean log-likelihood.
   *
   * @param scale what a difference is multiplied by
   * @param name the unit's name in a sentence
   */
  public record Units(double scale, String name) {
    public static final Units POINTS = new Units(100, "points");
    public static final Units NATS = new Units(1, "nats per token");

    String format(double v) {
      return String.format(Locale.ROOT, scale == 100 ? "%.1f" : "%.3f", scale * v);
    }

    /** "+1.5", "-0.7", and "0.0" where the rounding leaves nothing (never "+-0.0"). */
    String signed(double v) {
      String p = format(v);
      if (p.startsWith("-")) return p.matches("-0\\.0+") ? p.substring(1) : p;
      return p.matches("0\\.0+") ? p : "+" + p;
    }
  }

  /**
   * The verdict as a banner shows it: the fine-tune's score, the best cheaper alternative's, and
   * where the fine-tune stands against the alternatives by their paired intervals.
   *
   * @param metric the metric key ({@code f1_macro}, {@code entity_f1}, {@code spearman}…)
   * @param words the metric in a sentence
   * @param value the fine-tune's score, with its {@code interval}
   * @param best the strongest alternative's key, its {@code bestDescription} and {@code bestValue}
   * @param outcome {@code above} (every alternative clearly beaten), {@code within} (none clearly
   *     better, some not clearly worse), {@code below} (at least one clearly better) or {@code
   *     unchecked} (nothing to compare with)
   * @param below how many alternatives are clearly better, {@code within} how many are not clearly
   *     different, {@code beaten} how many are clearly worse
   * @param sentence the outcome in one line
   * @param nextSteps what to do next, most useful first
   */
  public record Headline(
      String metric,
      String words,
      double value,
      Interval interval,
      String best,
      String bestDescription,
      Double bestValue,
      String outcome,
      int below,
      int within,
      int beaten,
      String sentence,
      List<String> nextSteps) {}

  /**
   * The headline of the reference against the other systems on one metric (arguments as for {@link
   * #describe(String, String, Score, Map, List)}; {@code systems} may hold the reference).
   */
  public static Headline headline(
      String metric,
      String words,
      String referenceKey,
      Map<String, Score> systems,
      List<Comparison> comparisons) {
    Score ref = systems.get(referenceKey);
    List<Comparison> on = comparisons.stream().filter(c -> c.metric().equals(metric)).toList();
    if (on.isEmpty()) {
      return new Headline(
          metric,
          words,
          ref.value(),
          ref.interval(),
          null,
          null,
          null,
          "unchecked",
          0,
          0,
          0,
          String.format(
              Locale.ROOT, "%s %.3f; not compared with any cheaper method", words, ref.value()),
          List.of(
              "Evaluate it against the cheaper methods (whet eval RUN --data TEST --baselines)"
                  + " before relying on it."));
    }
    String bestKey =
        on.stream()
            .map(Comparison::other)
            .max(Comparator.comparingDouble(k -> systems.get(k).value()))
            .orElseThrow();
    Score best = systems.get(bestKey);
    int below = byOutcome(on, Comparison.Outcome.WORSE).size();
    int within = byOutcome(on, Comparison.Outcome.NO_CLEAR_DIFFERENCE).size();
    int beaten = byOutcome(on, Comparison.Outcome.BETTER).size();
    String outcome = below > 0 ? "below" : within > 0 ? "within" : "above";
    String scores =
        String.format(
            Locale.ROOT,
            "best: %s %.3f; fine-tuned %.3f",
            lower(best.description()),
            best.value(),
            ref.value());
    String cheaper =
        on.size() == 1 ? "the cheaper method" : "all " + on.size() + " cheaper methods";
    String sentence =
        switch (outcome) {
          case "below" ->
              String.format(
                  Locale.ROOT,
                  "Below %s — %s",
                  below == 1 ? "a cheaper method" : below + " cheaper methods",
                  scores);
          case "within" ->
              String.format(
                  Locale.ROOT,
                  "Not shown better than %s — %s",
                  within == 1 ? "a cheaper method" : within + " cheaper methods",
                  scores);
          default -> String.format(Locale.ROOT, "Beats %s — %s", cheaper, scores);
        };
    String use = lower(best.description());
    List<String> next =
        switch (outcome) {
          case "below" ->
              List.of(
                  "Use " + use + ": it scores higher at a fraction of the cost.",
                  "Or train longer (more epochs) or on more examples, then compare again.",
                  "Read the error analysis in the report for what the model gets wrong.");
          case "within" ->
              List.of(
                  "Prefer "
                      + use
                      + " unless the fine-tune is needed for other reasons: it does"
                      + " as well here at a fraction of the cost.",
                  "A larger test set narrows the intervals and may separate the two.",
                  "Training longer or on more examples may open a clear gap.");
          default ->
              List.of(
                  "Serve the fine-tuned model; check the forgetting check in the report if it"
                      + " must keep its general ability.");
        };
    return new Headline(
        metric,
        words,
        ref.value(),
        ref.interval(),
        bestKey,
        best.description(),
        best.value(),
        outcome,
        below,
        within,
        beaten,
        sentence,
        next);
  }

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
    return describe(metric, words, Units.POINTS, reference, systems, comparisons);
  }

  /** {@link #describe(String, String, Score, Map, List)} with differences in {@code units}. */
  public static String describe(
      String metric,
      String words,
      Units units,
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
              "%s beats the %s by %s %s of %s (95%% interval %s to %s): fine-tuning"
                  + " did not pay off against it.",
              name(systems, c.other()),
              lower(ref),
              units.format(-c.difference().estimate()),
              units.name(),
              words,
              units.format(-c.difference().high()),
              units.format(-c.difference().low())));
    }
    if (!unclear.isEmpty()) {
      List<String> items = new ArrayList<>();
      for (Comparison c : unclear) {
        items.add(
            String.format(
                Locale.ROOT,
                "%s (%s %s relative to it, 95%% interval %s to %s)",
                name(systems, c.other()),
                units.signed(-c.difference().estimate()),
                units.name(),
                units.signed(-c.difference().high()),
                units.signed(-c.difference().low())));
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
              "The %s beats every baseline; the strongest, %s, by %s %s of %s (95%%"
                  + " interval %s to %s).",
              lower(ref),
              name(systems, closest.other()),
              units.format(closest.difference().estimate()),
              units.name(),
              words,
              units.format(closest.difference().low()),
              units.format(closest.difference().high())));
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

  /** Mid-sentence form: "Base model" → "base model", but "TF-IDF" and "kNN" stay as they are. */
  private static String lower(String s) {
    if (s.isEmpty() || (s.length() > 1 && !Character.isLowerCase(s.charAt(1)))) return s;
    return Character.toLowerCase(s.charAt(0)) + s.substring(1);
  }
}
