package dev.whet.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.data.DataOptions;
import dev.whet.data.Dataset;
import dev.whet.data.Example;
import dev.whet.data.TokenExample;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 18: the gazetteer baseline for entity extraction. */
class GazetteerTest {
  @Test
  void longestKnownEntityWinsCaseInsensitivelyWithItsMostFrequentType() {
    Gazetteer g =
        Gazetteer.fit(
            List.of(
                List.of("New", "York", "rocks"),
                List.of("York", "is", "small"),
                List.of("new", "york", "again"),
                List.of("York", "again")),
            List.of(
                List.of("B-location", "I-location", "O"),
                List.of("B-person", "O", "O"),
                List.of("B-location", "I-location", "O"),
                List.of("B-location", "O")));
    assertEquals(2, g.size());
    assertEquals(
        List.of("O", "B-location", "I-location", "O"),
        g.tag(List.of("in", "NEW", "YORK", "today")),
        "the two-token entity, not York alone");
    assertEquals(
        List.of("B-location", "O"), g.tag(List.of("york", "!")), "York: location 1, person 1");
    assertEquals(List.of("O", "O"), g.tag(List.of("unseen", "words")));
  }

  /** On WNUT-17: it finds almost every entity of its own training sentences, and some new ones. */
  @Test
  void onWnut17(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("wnut17_dev_full.conll");
    try (InputStream in = getClass().getResourceAsStream("/data/wnut17_dev_full.conll")) {
      Files.copy(in, file);
    }
    List<List<String>> tokens = new ArrayList<>();
    List<List<String>> tags = new ArrayList<>();
    for (Example e : Dataset.load(file, DataOptions.defaults()).examples()) {
      tokens.add(((TokenExample) e).tokens());
      tags.add(((TokenExample) e).tags());
    }
    int cut = 700;
    Gazetteer g = Gazetteer.fit(tokens.subList(0, cut), tags.subList(0, cut));
    EntityMetrics.Scores own =
        EntityMetrics.score(
            tags.subList(0, cut), tokens.subList(0, cut).stream().map(g::tag).toList());
    EntityMetrics.Scores held =
        EntityMetrics.score(
            tags.subList(cut, tokens.size()),
            tokens.subList(cut, tokens.size()).stream().map(g::tag).toList());
    System.out.printf(
        "gazetteer of %d entities: recall on its own sentences %.3f; held-out F1 %.3f (P %.3f, R %.3f)%n",
        g.size(), own.recall(), held.f1(), held.precision(), held.recall());
    assertTrue(own.recall() > 0.9, "own recall " + own.recall());
    assertTrue(held.f1() > 0 && held.f1() < 1, "held-out F1 " + held.f1());
  }
}
