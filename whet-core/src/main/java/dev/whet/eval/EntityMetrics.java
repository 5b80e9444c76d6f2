package dev.whet.eval;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Entity-level scores of token tags under strict IOB2, the definitions of seqeval's strict mode: an
 * entity is a {@code B-T} tag followed by any number of {@code I-T} tags of the same type; an
 * {@code I-T} that does not continue an entity of type T starts none. A predicted entity counts
 * only when its type, start and end all match a gold one. The first piece of token classification
 * (issue 18).
 */
public final class EntityMetrics {
  private EntityMetrics() {}

  /**
   * An entity: its type and token span.
   *
   * @param end exclusive
   */
  public record Entity(String type, int start, int end) {}

  /** One type's scores; support is its number of gold entities. */
  public record TypeScores(String type, double precision, double recall, double f1, int support) {}

  /**
   * @param precision micro over all entities
   * @param macroF1 mean F1 over the types seen in gold or predicted
   * @param tokenAccuracy share of tokens whose tag is right
   */
  public record Scores(
      double precision,
      double recall,
      double f1,
      double macroF1,
      double tokenAccuracy,
      List<TypeScores> perType) {}

  /** The entities of one tag sequence, in order. */
  public static List<Entity> entities(List<String> tags) {
    List<Entity> out = new ArrayList<>();
    int start = -1;
    String type = null;
    for (int i = 0; i <= tags.size(); i++) {
      String tag = i < tags.size() ? tags.get(i) : "O";
      boolean continues = type != null && tag.startsWith("I-") && tag.substring(2).equals(type);
      if (type != null && !continues) {
        out.add(new Entity(type, start, i));
        type = null;
      }
      if (tag.startsWith("B-")) {
        start = i;
        type = tag.substring(2);
      }
    }
    return out;
  }

  /** Scores predicted tag sequences against gold ones of the same lengths. */
  public static Scores score(List<List<String>> gold, List<List<String>> pred) {
    if (gold.size() != pred.size()) {
      throw new IllegalArgumentException(
          gold.size() + " gold sequences, " + pred.size() + " predicted");
    }
    record Found(int sentence, Entity entity) {}
    Set<Found> g = new HashSet<>();
    Set<Found> p = new HashSet<>();
    long tokens = 0;
    long same = 0;
    for (int s = 0; s < gold.size(); s++) {
      if (gold.get(s).size() != pred.get(s).size()) {
        throw new IllegalArgumentException("sequence " + s + ": lengths differ");
      }
      for (Entity e : entities(gold.get(s))) g.add(new Found(s, e));
      for (Entity e : entities(pred.get(s))) p.add(new Found(s, e));
      for (int i = 0; i < gold.get(s).size(); i++) {
        tokens++;
        if (gold.get(s).get(i).equals(pred.get(s).get(i))) same++;
      }
    }
    TreeSet<String> types = new TreeSet<>();
    g.forEach(f -> types.add(f.entity().type()));
    p.forEach(f -> types.add(f.entity().type()));
    List<TypeScores> per = new ArrayList<>();
    double macro = 0;
    for (String t : types) {
      long tp = g.stream().filter(f -> f.entity().type().equals(t) && p.contains(f)).count();
      long predicted = p.stream().filter(f -> f.entity().type().equals(t)).count();
      long actual = g.stream().filter(f -> f.entity().type().equals(t)).count();
      TypeScores ts =
          new TypeScores(
              t,
              predicted == 0 ? 0 : (double) tp / predicted,
              actual == 0 ? 0 : (double) tp / actual,
              Metrics.f1(tp, predicted, actual),
              (int) actual);
      per.add(ts);
      macro += ts.f1();
    }
    long tp = g.stream().filter(p::contains).count();
    return new Scores(
        p.isEmpty() ? 0 : (double) tp / p.size(),
        g.isEmpty() ? 0 : (double) tp / g.size(),
        Metrics.f1(tp, p.size(), g.size()),
        types.isEmpty() ? 0 : macro / types.size(),
        tokens == 0 ? 0 : (double) same / tokens,
        per);
  }
}
