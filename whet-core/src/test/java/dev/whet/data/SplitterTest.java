package dev.whet.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.WhetException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SplitterTest {
  @TempDir Path dir;

  /** 900 of label a, 90 of b, 10 of c, every 10th text repeated 3 times (with case changes). */
  private static List<Example> imbalanced() {
    List<Example> out = new ArrayList<>();
    int line = 1;
    for (int i = 0; i < 1000; i++) {
      String label = i < 900 ? "a" : i < 990 ? "b" : "c";
      out.add(new ClassificationExample("text " + i, null, List.of(label), line++));
      if (i % 10 == 0 && i < 900) {
        out.add(new ClassificationExample("Text " + i + "!", null, List.of(label), line++));
        out.add(new ClassificationExample("TEXT " + i, null, List.of(label), line++));
      }
    }
    return out;
  }

  @Test
  void holdOutWritesTrainAndValidationIntoADirectory() throws IOException {
    Path file = dir.resolve("in.jsonl");
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      lines.add(
          "{\"text\": \"t" + i + "\", \"label\": \"" + (i % 5 == 0 ? "rare" : "common") + "\"}");
    }
    Files.write(file, lines);
    Splitter.Result r =
        Splitter.holdOut(file, DataOptions.defaults(), 0.2, 3, dir.resolve("run/data"));
    assertEquals(dir.resolve("run/data/train.jsonl"), r.train().file());
    assertEquals(dir.resolve("run/data/validation.jsonl"), r.val().file());
    assertEquals(40, r.train().count());
    assertEquals(10, r.val().count());
    List<String> held = Files.readAllLines(r.val().file());
    assertEquals(2, held.stream().filter(l -> l.contains("rare")).count(), "stratified");
    List<String> all = new ArrayList<>(held);
    all.addAll(Files.readAllLines(r.train().file()));
    assertEquals(50, new java.util.HashSet<>(all).size(), "each example on one side");
    // A one-example label is never held out: it could not be learnt.
    lines.add("{\"text\": \"only one\", \"label\": \"single\"}");
    Files.write(file, lines);
    for (long seed = 0; seed < 20; seed++) {
      Splitter.Result one =
          Splitter.holdOut(file, DataOptions.defaults(), 0.2, seed, dir.resolve("one"));
      assertTrue(Files.readString(one.train().file()).contains("single"), "seed " + seed);
    }
    // Too small to hold anything out: nothing written, null.
    Files.write(file, lines.subList(0, 3));
    assertEquals(
        null, Splitter.holdOut(file, DataOptions.defaults(), 0.1, 3, dir.resolve("small")));
    assertTrue(!Files.exists(dir.resolve("small")));
  }

  @Test
  void stratifiedDeterministicAndDuplicatesTogether() {
    List<Example> ex = imbalanced();
    int[] side = Splitter.assign(ex, 0.1, 0.1, 5);
    assertArrayEquals(side, Splitter.assign(ex, 0.1, 0.1, 5), "same seed, same split");
    assertTrue(!java.util.Arrays.equals(side, Splitter.assign(ex, 0.1, 0.1, 6)));

    Map<String, int[]> perLabel = new HashMap<>();
    Map<String, Integer> sideOfText = new HashMap<>();
    for (int i = 0; i < ex.size(); i++) {
      perLabel.computeIfAbsent(ex.get(i).label(), k -> new int[3])[side[i]]++;
      Integer before = sideOfText.put(DataStats.normalize(ex.get(i).input()), side[i]);
      assertTrue(before == null || before == side[i], "duplicates on one side: " + ex.get(i));
    }
    // The rare class c (10 examples) still has one in validation and one in test.
    assertArrayEquals(new int[] {8, 1, 1}, perLabel.get("c"));
    assertArrayEquals(new int[] {72, 9, 9}, perLabel.get("b"));
    int[] a = perLabel.get("a");
    assertEquals(1080, a[0] + a[1] + a[2]);
    assertTrue(Math.abs(a[1] - 108) <= 3 && Math.abs(a[2] - 108) <= 3, a[1] + "/" + a[2]);
  }

  @Test
  void writesSiblingJsonlFilesAndPrintsCounts() throws IOException {
    Path csv = dir.resolve("reviews.csv");
    StringBuilder s = new StringBuilder("text,label\n");
    Random r = new Random(1);
    for (int i = 0; i < 50; i++) {
      s.append("\"review ")
          .append(i)
          .append(", with a comma\",")
          .append(r.nextBoolean() ? "pos" : "neg")
          .append('\n');
    }
    Files.writeString(csv, s);
    Splitter.Result res = Splitter.split(csv, DataOptions.defaults(), 0.2, 0, 3);
    assertEquals(dir.resolve("reviews.train.jsonl"), res.train().file());
    assertEquals(dir.resolve("reviews.val.jsonl"), res.val().file());
    assertEquals(null, res.test());
    assertEquals(50, res.train().count() + res.val().count());
    assertEquals(10, res.val().count());
    String first = Files.readAllLines(res.val().file()).get(0);
    assertTrue(
        first.matches("\\{\"text\":\"review \\d+, with a comma\",\"label\":\"(pos|neg)\"}"), first);
  }

  @Test
  void refusesSharesThatLeaveNothing() throws IOException {
    Path f = dir.resolve("tiny.jsonl");
    Files.writeString(
        f, "{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\", \"label\": \"y\"}\n");
    assertThrows(WhetException.class, () -> Splitter.split(f, DataOptions.defaults(), 0.1, 0, 1));
    assertThrows(WhetException.class, () -> Splitter.split(f, DataOptions.defaults(), 0.6, 0.5, 1));
  }

  @Test
  void roundTripsEveryTask() throws IOException {
    Path f = dir.resolve("chat.jsonl");
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < 20; i++) {
      s.append("{\"messages\": [{\"role\": \"user\", \"content\": \"q")
          .append(i)
          .append("\"}, {\"role\": \"assistant\", \"content\": \"a\", \"weight\": 0},")
          .append(" {\"role\": \"assistant\", \"content\": \"b\"}]}\n");
    }
    Files.writeString(f, s);
    Splitter.Result res = Splitter.split(f, DataOptions.defaults(), 0.25, 0.25, 1);
    Dataset val = Dataset.load(res.val().file(), DataOptions.defaults());
    assertEquals(Task.CHAT, val.task());
    ChatExample c = (ChatExample) val.examples().get(0);
    assertEquals(0, c.messages().get(1).weight());
    assertEquals(1, c.messages().get(2).weight());
  }
}
