package dev.whet.eval;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores taggers (a tag per word) on one test set by strict entity-level F1 ({@link
 * EntityMetrics}), as {@link Evaluation} does classifiers by macro F1: per system the micro entity
 * precision, recall and F1 with a bootstrap interval over sentences, token accuracy and per-type
 * scores; paired differences against the reference; the verdict in the same words and rules; and
 * where the reference goes wrong.
 */
public final class EntityEvaluation {
  /**
   * One system's scores.
   *
   * @param seconds wall time to fit (baselines) and tag the test set
   * @param setting how a tuned baseline was set up, or null
   */
  public record SystemScores(
      String name,
      String description,
      double entityF1,
      Interval entityF1Interval,
      double entityPrecision,
      double entityRecall,
      double tokenAccuracy,
      Map<String, EntityMetrics.TypeScores> perType,
      double seconds,
      String setting) {}

  /** How often a gold entity was found again. */
  public record Missed(String text, String type, int count) {}

  /**
   * Where the reference's entities differ from gold, each gold or predicted entity counted once.
   *
   * @param typeConfusions same span, other type
   * @param boundaryErrors overlapping span, not the same
   * @param missed gold entities with no overlapping prediction
   * @param spurious predictions overlapping no gold entity
   * @param confusions "gold → predicted" type pairs with counts, most frequent first
   * @param mostMissed gold entities not found exactly, most frequent first
   */
  public record Errors(
      int typeConfusions,
      int boundaryErrors,
      int missed,
      int spurious,
      Map<String, Integer> confusions,
      List<Missed> mostMissed) {}

  /**
   * eval.json of a tagger ({@code task: tokens}): the reference's scores at the top level, every
   * system (reference included) under {@code baselines}.
   */
  public record Result(
      String task,
      String run,
      String reference,
      List<String> types,
      int n,
      double entityF1,
      double entityPrecision,
      double entityRecall,
      double tokenAccuracy,
      Map<String, EntityMetrics.TypeScores> perType,
      Map<String, SystemScores> baselines,
      List<Comparison> comparisons,
      String verdict,
      Verdict.Headline headline,
      ForgettingCheck forgetting,
      Errors errors,
      JsonNode dataStats,
      Map<String, Double> timings) {}

  /** The comparisons' metric key. */
  public static final String METRIC = "entity_f1";

  private final List<List<String>> tokens;
  private final List<List<String>> gold;
  private final Bootstrap bootstrap;
  private final Map<String, Scored> systems = new LinkedHashMap<>();

  private record Scored(SystemScores scores, List<List<String>> pred, long[][] counts) {}

  /**
   * @param tokens the test sentences' words
   * @param gold their tags
   */
  public EntityEvaluation(List<List<String>> tokens, List<List<String>> gold, Bootstrap bootstrap) {
    this.tokens = tokens;
    this.gold = gold;
    this.bootstrap = bootstrap;
  }

  /** Scores a system's tags for the test sentences. */
  public SystemScores add(
      String name, String description, List<List<String>> pred, double seconds, String setting) {
    EntityMetrics.Scores s = EntityMetrics.score(gold, pred);
    long[][] counts = counts(pred);
    Map<String, EntityMetrics.TypeScores> perType = new LinkedHashMap<>();
    s.perType().forEach(t -> perType.put(t.type(), t));
    SystemScores scores =
        new SystemScores(
            name,
            description,
            s.f1(),
            bootstrap.interval(gold.size(), f1(counts)),
            s.precision(),
            s.recall(),
            s.tokenAccuracy(),
            perType,
            seconds,
            setting);
    systems.put(name, new Scored(scores, pred, counts));
    return scores;
  }

  /**
   * Per sentence: exactly matched, predicted and gold entities. Micro F1 over any resample of
   * sentences is 2·Σmatched / (Σpredicted + Σgold) of its rows, so the bootstrap never re-scores
   * tags.
   */
  private long[][] counts(List<List<String>> pred) {
    long[][] c = new long[gold.size()][3];
    for (int s = 0; s < gold.size(); s++) {
      List<EntityMetrics.Entity> g = EntityMetrics.entities(gold.get(s));
      List<EntityMetrics.Entity> p = EntityMetrics.entities(pred.get(s));
      for (EntityMetrics.Entity e : p) {
        c[s][0] += g.contains(e) ? 1 : 0;
      }
      c[s][1] = p.size();
      c[s][2] = g.size();
    }
    return c;
  }

  private static Bootstrap.SampleMetric f1(long[][] counts) {
    return idx -> {
      long matched = 0;
      long sizes = 0;
      for (int i : idx) {
        matched += counts[i][0];
        sizes += counts[i][1] + counts[i][2];
      }
      return sizes == 0 ? 0 : 2.0 * matched / sizes;
    };
  }

  /** The result, the reference compared with every other system. */
  public Result result(
      String run,
      String reference,
      List<String> types,
      ForgettingCheck forgetting,
      JsonNode dataStats,
      Map<String, Double> timings) {
    Scored ref = systems.get(reference);
    if (ref == null) throw new IllegalArgumentException("no system named " + reference);
    List<Comparison> comparisons = new ArrayList<>();
    Map<String, SystemScores> all = new LinkedHashMap<>();
    Map<String, Verdict.Score> verdictScores = new LinkedHashMap<>();
    for (Scored other : systems.values()) {
      SystemScores s = other.scores();
      all.put(s.name(), s);
      verdictScores.put(
          s.name(), new Verdict.Score(s.description(), s.entityF1(), s.entityF1Interval()));
      if (other == ref) continue;
      Interval diff = bootstrap.difference(gold.size(), f1(ref.counts()), f1(other.counts()));
      comparisons.add(
          new Comparison(reference, s.name(), METRIC, diff, Comparison.Outcome.of(diff)));
    }
    SystemScores r = ref.scores();
    Map<String, Double> allTimings = new LinkedHashMap<>(timings == null ? Map.of() : timings);
    systems.forEach((name, s) -> allTimings.putIfAbsent("system." + name, s.scores().seconds()));
    return new Result(
        "tokens",
        run,
        reference,
        types,
        gold.size(),
        r.entityF1(),
        r.entityPrecision(),
        r.entityRecall(),
        r.tokenAccuracy(),
        r.perType(),
        all,
        comparisons,
        Verdict.describe(
            METRIC, "entity F1", verdictScores.get(reference), verdictScores, comparisons),
        Verdict.headline(METRIC, "entity F1", reference, verdictScores, comparisons),
        forgetting,
        errors(ref.pred()),
        dataStats,
        allTimings);
  }

  /** Error analysis of one system's tags: what kind of mistake each wrong entity is. */
  Errors errors(List<List<String>> pred) {
    int confusions = 0;
    int boundary = 0;
    int missed = 0;
    int spurious = 0;
    Map<String, Integer> pairs = new HashMap<>();
    Map<List<String>, Integer> missedCounts = new HashMap<>();
    for (int s = 0; s < gold.size(); s++) {
      List<EntityMetrics.Entity> g = EntityMetrics.entities(gold.get(s));
      List<EntityMetrics.Entity> p = EntityMetrics.entities(pred.get(s));
      for (EntityMetrics.Entity e : g) {
        if (p.contains(e)) continue;
        String text = String.join(" ", tokens.get(s).subList(e.start(), e.end()));
        missedCounts.merge(List.of(text, e.type()), 1, Integer::sum);
        EntityMetrics.Entity sameSpan =
            p.stream()
                .filter(x -> x.start() == e.start() && x.end() == e.end())
                .findFirst()
                .orElse(null);
        if (sameSpan != null) {
          confusions++;
          pairs.merge(e.type() + " → " + sameSpan.type(), 1, Integer::sum);
        } else if (p.stream().anyMatch(x -> overlap(x, e))) {
          boundary++;
        } else {
          missed++;
        }
      }
      for (EntityMetrics.Entity x : p) {
        if (g.stream().noneMatch(e -> overlap(x, e))) spurious++;
      }
    }
    Map<String, Integer> sortedPairs = new LinkedHashMap<>();
    pairs.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .forEach(e -> sortedPairs.put(e.getKey(), e.getValue()));
    List<Missed> mostMissed =
        missedCounts.entrySet().stream()
            .map(e -> new Missed(e.getKey().get(0), e.getKey().get(1), e.getValue()))
            .sorted(Comparator.comparingInt(Missed::count).reversed().thenComparing(Missed::text))
            .limit(15)
            .toList();
    return new Errors(confusions, boundary, missed, spurious, sortedPairs, mostMissed);
  }

  private static boolean overlap(EntityMetrics.Entity a, EntityMetrics.Entity b) {
    return a.start() < b.end() && b.start() < a.end();
  }
}
