package dev.whet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code whet data check/split}: exit codes and the JSON contract scripts rely on. */
class DataCommandTest {
  @TempDir Path dir;

  private record Run(int exit, String out, String err) {}

  private static Run run(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      int exit = Main.commandLine().execute(args);
      return new Run(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  private Path data(int n, String bad) throws IOException {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      s.append("{\"text\": \"example ")
          .append(i)
          .append("\", \"label\": \"")
          .append(i % 3 == 0 ? "neg" : "pos")
          .append("\"}\n");
    }
    if (bad != null) {
      s.append(bad).append('\n');
    }
    return Files.writeString(dir.resolve("train.jsonl"), s);
  }

  @Test
  void checkJsonOnValidFile() throws IOException {
    Path f = data(30, null);
    Run r = run("data", "check", f.toString(), "--json");
    assertEquals(0, r.exit(), r.err());
    JsonNode j = new ObjectMapper().readTree(r.out());
    assertTrue(j.get("valid").asBoolean());
    assertEquals(30, j.get("count").asInt());
    assertEquals(0, j.get("errors").size());
    assertEquals(10, j.get("labels").get("neg").asInt());
    assertEquals(20, j.get("labels").get("pos").asInt());
  }

  @Test
  void checkInvalidListsErrorsAndExitsOne() throws IOException {
    Path f = data(5, "{\"text\": \"x\"}");
    Run text = run("data", "check", f.toString());
    assertEquals(1, text.exit());
    assertTrue(
        text.out()
            .contains(f + ":6: missing field \"label\" — every classify record needs a label"),
        text.out());
    Run json = run("data", "check", f.toString(), "--json");
    assertEquals(1, json.exit());
    JsonNode j = new ObjectMapper().readTree(json.out());
    assertEquals(false, j.get("valid").asBoolean());
    assertEquals(6, j.get("errors").get(0).get("line").asInt());
  }

  @Test
  void unreadableExitsTwo() {
    Run r = run("data", "check", dir.resolve("absent.jsonl").toString());
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("no such file"), r.err());
    Run j = run("data", "check", dir.resolve("absent.jsonl").toString(), "--json");
    assertEquals(2, j.exit());
    assertTrue(j.out().contains("\"valid\" : false"), j.out());
  }

  @Test
  void declaredLabelsAndTaskOption() throws IOException {
    Path f = data(6, null);
    assertEquals(1, run("data", "check", f.toString(), "--labels", "pos").exit());
    assertEquals(
        0, run("data", "check", f.toString(), "--labels", "pos,neg", "--task", "classify").exit());
    assertEquals(2, run("data", "check", f.toString(), "--task", "nonsense").exit());
  }

  @Test
  void splitWritesSiblingsAndPrintsCounts() throws IOException {
    Path f = data(100, null);
    Run r = run("data", "split", f.toString(), "--val", "0.1", "--test", "0.2", "--seed", "3");
    assertEquals(0, r.exit(), r.err());
    List<String> lines = r.out().lines().toList();
    assertEquals(3, lines.size(), r.out());
    assertTrue(lines.get(0).matches("train\\s+70\\s+.*train\\.train\\.jsonl"), lines.get(0));
    assertTrue(lines.get(1).matches("val\\s+10\\s+.*train\\.val\\.jsonl"), lines.get(1));
    assertTrue(lines.get(2).matches("test\\s+20\\s+.*train\\.test\\.jsonl"), lines.get(2));
    assertEquals(10, Files.readAllLines(dir.resolve("train.val.jsonl")).size());
    Run json = run("data", "split", f.toString(), "--val", "0.1", "--seed", "3", "--json");
    assertEquals(0, json.exit(), json.err());
    JsonNode j = new ObjectMapper().readTree(json.out());
    assertEquals(90, j.get("train").get("count").asInt());
    assertEquals(10, j.get("val").get("count").asInt());
    assertTrue(j.get("test") == null);
  }
}
