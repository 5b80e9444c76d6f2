package dev.whet.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Strict IOB2 entity scores against an independent plain-Python implementation of seqeval's strict
 * definitions (eval/make_entity_fixtures.py): 150 noisy sentences and three hand cases.
 */
class EntityMetricsTest {
  static final double EXACT = 1e-12;

  @Test
  void chunksAreStrictIob2() {
    assertEquals(List.of(), EntityMetrics.entities(List.of("I-person", "I-person", "O")));
    assertEquals(
        List.of(new EntityMetrics.Entity("person", 0, 1)),
        EntityMetrics.entities(List.of("B-person", "I-location", "O")),
        "a type change ends the entity; the stray I- starts none");
    assertEquals(
        List.of(new EntityMetrics.Entity("person", 0, 2), new EntityMetrics.Entity("person", 2, 3)),
        EntityMetrics.entities(List.of("B-person", "I-person", "B-person")));
    assertEquals(
        List.of(new EntityMetrics.Entity("product", 1, 2)),
        EntityMetrics.entities(List.of("O", "B-product")),
        "an entity at the very end");
  }

  @Test
  void scoresMatchTheReference() {
    JsonNode f = Fixtures.load("entities.json");
    EntityMetrics.Scores s =
        EntityMetrics.score(sequences(f.get("gold")), sequences(f.get("pred")));
    JsonNode want = f.get("scores");
    assertEquals(want.get("precision").asDouble(), s.precision(), EXACT);
    assertEquals(want.get("recall").asDouble(), s.recall(), EXACT);
    assertEquals(want.get("f1").asDouble(), s.f1(), EXACT);
    assertEquals(want.get("macro_f1").asDouble(), s.macroF1(), EXACT);
    assertEquals(want.get("token_accuracy").asDouble(), s.tokenAccuracy(), EXACT);
    assertEquals(want.get("per_type").size(), s.perType().size());
    for (EntityMetrics.TypeScores t : s.perType()) {
      JsonNode w = want.get("per_type").get(t.type());
      assertEquals(w.get("f1").asDouble(), t.f1(), EXACT, t.type());
      assertEquals(w.get("precision").asDouble(), t.precision(), EXACT, t.type());
      assertEquals(w.get("recall").asDouble(), t.recall(), EXACT, t.type());
      assertEquals(w.get("support").asInt(), t.support(), t.type());
    }
  }

  static List<List<String>> sequences(JsonNode n) {
    List<List<String>> out = new ArrayList<>();
    n.forEach(
        s -> {
          List<String> tags = new ArrayList<>();
          s.forEach(t -> tags.add(t.asText()));
          out.add(tags);
        });
    return out;
  }
}
