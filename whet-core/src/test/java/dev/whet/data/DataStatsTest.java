package dev.whet.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataStatsTest {
  @TempDir Path dir;

  private Path write(String name, String... lines) throws IOException {
    return Files.write(dir.resolve(name), List.of(lines));
  }

  private static List<String> kinds(DataStats s) {
    return s.advice().stream().map(DataStats.Advice::kind).toList();
  }

  @Test
  void duplicatesConflictsImbalanceAndAdvice() throws IOException {
    String[] lines = new String[60];
    for (int i = 0; i < 55; i++) {
      lines[i] = "{\"text\": \"review number " + i + "\", \"label\": \"pos\"}";
    }
    lines[55] = "{\"text\": \"review number 1\", \"label\": \"pos\"}"; // exact duplicate
    lines[56] = "{\"text\": \"Review  number 2!\", \"label\": \"neg\"}"; // normalised, conflicting
    lines[57] = "{\"text\": \"awful\", \"label\": \"neg\"}";
    lines[58] = "{\"text\": \"bad\", \"label\": \"neg\"}";
    lines[59] = "{\"text\": \"meh\", \"label\": \"neu\"}";
    DataStats s = DataStats.compute(write("d.jsonl", lines), DataOptions.defaults());
    assertEquals(60, s.report().count());
    assertEquals(1, s.exactDuplicates());
    assertEquals(2, s.normalizedDuplicates());
    assertEquals(1, s.conflictingDuplicates());
    assertEquals(56, s.labelCounts().get("pos"));
    assertEquals(56.0, s.imbalanceRatio());
    assertEquals(
        List.of(
            "too-few-examples",
            "few-shot",
            "small-classes",
            "imbalance",
            "duplicates",
            "conflicting-labels"),
        kinds(s));
    assertTrue(s.advice().get(0).message().startsWith("only 60 examples"));
    assertTrue(
        s.advice().get(1).message().startsWith("only 20.0 examples per class on average")
            && s.advice().get(1).message().contains("--method setfit"),
        s.advice().get(1).message());
    assertEquals(
        "2 classes have fewer than 20 examples: neg (3), neu (1); add examples or merge them",
        s.advice().get(2).message());
  }

  @Test
  void leakageAgainstAValidationFile() throws IOException {
    Path train =
        write(
            "train.jsonl",
            "{\"text\": \"Hello there\", \"label\": \"a\"}",
            "{\"text\": \"unique\", \"label\": \"a\"}");
    Path val = write("val.jsonl", "{\"text\": \"hello, there\", \"label\": \"a\"}");
    DataStats s = DataStats.compute(train, DataOptions.defaults(), null, 0, val);
    assertEquals(1, s.leakage());
    assertTrue(kinds(s).contains("leakage"));
    assertNull(DataStats.compute(train, DataOptions.defaults()).leakage());
    Path broken = write("broken.jsonl", "{\"text\": \"a\"}");
    dev.whet.WhetException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            dev.whet.WhetException.class,
            () -> DataStats.compute(train, DataOptions.defaults(), null, 0, broken));
    assertTrue(e.getMessage().contains("broken.jsonl:1: missing field \"label\""), e.getMessage());
  }

  @Test
  void tokenLengthsAndTruncationUnderARealTokenizer() throws IOException {
    Path tok = TestFiles.tokenizer(dir);
    String[] lines = new String[100];
    for (int i = 0; i < 100; i++) {
      // 90 short texts, 10 of ~200 words: 10% truncated at 128 tokens.
      String text = i < 90 ? "short text " + i : "word ".repeat(200) + i;
      lines[i] = "{\"text\": \"" + text + "\", \"label\": \"" + (i % 2) + "\"}";
    }
    DataStats s =
        DataStats.compute(write("t.jsonl", lines), DataOptions.defaults(), tok, 128, null);
    DataStats.TokenStats t = s.tokens();
    assertEquals(128, t.maxLength());
    assertEquals(5, t.p50(), "[CLS] short text N [SEP]");
    assertEquals(203, t.max(), "counted without truncation");
    assertEquals(0.1, t.truncated());
    assertTrue(kinds(s).contains("truncation"));
    assertEquals(128, DataStats.maxLengthOf(dir));
    assertEquals(100, t.counted());
    // A share tokenizes a deterministic hash-chosen sample.
    Path f = dir.resolve("t.jsonl");
    DataStats half = DataStats.compute(f, DataOptions.defaults(), tok, 128, null, 0.5);
    long counted = half.tokens().counted();
    assertTrue(counted > 30 && counted < 70, "sampled " + counted);
    assertEquals(
        counted,
        DataStats.compute(f, DataOptions.defaults(), tok, 128, null, 0.5).tokens().counted());
  }

  @Test
  void chatTurnsAndTokensPerRole() throws IOException {
    Path tok = TestFiles.tokenizer(dir);
    Path f =
        write(
            "c.jsonl",
            "{\"messages\": [{\"role\": \"system\", \"content\": \"be brief\"}, {\"role\": \"user\","
                + " \"content\": \"hi there\"}, {\"role\": \"assistant\", \"content\": \"hello\"}]}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"bye\"}, {\"role\": \"assistant\","
                + " \"content\": \"see you soon\"}]}");
    DataStats s = DataStats.compute(f, DataOptions.defaults(), tok, 128, null);
    assertEquals(new DataStats.RoleStats(1, 2), s.roles().get("system"));
    assertEquals(new DataStats.RoleStats(2, 3), s.roles().get("user"));
    assertEquals(new DataStats.RoleStats(2, 4), s.roles().get("assistant"));
    assertTrue(s.labelCounts().isEmpty());
    assertTrue(kinds(s).contains("few-shot"), "generative data this small: prompt first");
  }

  @Test
  void jsonHasTheScriptContract() throws IOException {
    Path f =
        write(
            "j.jsonl",
            "{\"text\": \"a\", \"label\": \"x\"}",
            "{\"text\": 1, \"label\": \"x\"}",
            "{\"text\": \"b\", \"label\": \"y\"}");
    ObjectNode o = DataStats.compute(f, DataOptions.defaults()).toJson();
    assertEquals(false, o.get("valid").asBoolean());
    assertEquals(2, o.get("count").asInt());
    assertEquals(2, o.get("errors").get(0).get("line").asInt());
    assertTrue(o.get("errors").get(0).get("message").asText().startsWith("field \"text\""));
    assertEquals(1, o.get("labels").get("x").asInt());
    assertEquals("classify", o.get("task").asText());
  }

  @Test
  void fastNormalizedHashMatchesTheReference() {
    java.util.Random r = new java.util.Random(9);
    String alphabet = "aZ09 ,.!-_\t\nÉéßİ\u00a0\u2028😀𝔸中";
    for (int i = 0; i < 5000; i++) {
      StringBuilder sb = new StringBuilder();
      int n = r.nextInt(30);
      for (int k = 0; k < n; k++) {
        sb.appendCodePoint(
            alphabet.codePointAt(
                alphabet.offsetByCodePoints(
                    0, r.nextInt(alphabet.codePointCount(0, alphabet.length())))));
      }
      String text = sb.toString();
      assertEquals(LongMap.hash(DataStats.normalize(text)), DataStats.normalizedHash(text), text);
    }
  }

  @Test
  void normalizeIgnoresCaseSpacingAndPunctuation() {
    assertEquals("hi there 2", DataStats.normalize("  Hi,   THERE!! 2 "));
    assertEquals("café", DataStats.normalize("Café."));
  }
}
