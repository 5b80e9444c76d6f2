package dev.whet.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code check} and {@code split} on a slice of every shared dataset that fits a Whet task (see
 * {@code src/test/resources/data/PROVENANCE.md}). Where a file is not in a format Whet reads, the
 * test converts it first and says how; that conversion is what a user would do too.
 */
class RealDataTest {
  @TempDir Path dir;

  /** Checks the file, splits it 70/20/10 and reads each part back as the same task. */
  private DataStats checkAndSplit(Path file, DataOptions options, Task task, int count) {
    DataStats stats = DataStats.compute(file, options);
    ValidationReport r = stats.report();
    assertTrue(r.valid(), () -> file + ":\n" + r.describeErrors());
    assertEquals(task, r.task());
    assertEquals(count, r.count());

    Splitter.Result split = Splitter.split(file, options, 0.2, 0.1, 7);
    assertEquals(count, split.train().count() + split.val().count() + split.test().count());
    assertEquals(Math.round(count * 0.2), split.val().count(), 0.05 * count + 2);
    String stem = file.getFileName().toString().replaceFirst("\\.[^.]*$", "");
    assertEquals(dir.resolve(stem + ".train.jsonl"), split.train().file());
    for (Splitter.Part part : List.of(split.train(), split.val(), split.test())) {
      Dataset back = Dataset.load(part.file(), DataOptions.defaults().withTask(task));
      assertEquals(part.count(), back.size(), part.file().toString());
    }
    return stats;
  }

  private static Path writeJsonl(Path file, List<ObjectNode> rows) throws IOException {
    List<String> lines = new ArrayList<>();
    for (ObjectNode o : rows) {
      lines.add(o.toString());
    }
    Files.write(file, lines, StandardCharsets.UTF_8);
    return file;
  }

  @Test
  void sst2TsvWithHeader() {
    Path file = TestFiles.copy("sst2_dev.tsv", dir);
    DataStats s = checkAndSplit(file, DataOptions.defaults(), Task.CLASSIFICATION, 200);
    assertEquals(List.of("0", "1"), List.copyOf(s.labelCounts().keySet()));
    assertEquals(200, s.labelCounts().get("0") + s.labelCounts().get("1"));
  }

  @Test
  void sst2TestWithCrlfLineEndings() {
    Path file = TestFiles.copy("sst2_test_crlf.tsv", dir);
    checkAndSplit(file, DataOptions.defaults(), Task.CLASSIFICATION, 100);
    Dataset d = Dataset.load(file, DataOptions.defaults());
    for (Example e : d.examples()) {
      ClassificationExample c = (ClassificationExample) e;
      assertFalse(c.text().contains("\r") || c.labels().get(0).contains("\r"), c.toString());
    }
  }

  @Test
  void amazonReviewsWithEmbeddedNewlinesAndTabs() {
    Path file = TestFiles.copy("amazon_books_dev.tsv", dir);
    DataStats s = checkAndSplit(file, DataOptions.defaults(), Task.CLASSIFICATION, 80);
    assertEquals(Map.of("0", 40, "1", 40), s.labelCounts());
    Dataset d = Dataset.load(file, DataOptions.defaults());
    ClassificationExample first = (ClassificationExample) d.examples().get(0);
    ClassificationExample last = (ClassificationExample) d.examples().get(79);
    assertTrue(first.text().contains("\n"), "quoted field keeps its newline");
    assertEquals(2, first.line());
    // Records span several lines, so the last one starts well after line 81.
    assertTrue(last.line() > 81, "line " + last.line());
    // Stratified: 20% of each balanced class goes to validation.
    Splitter.Result split = Splitter.split(file, DataOptions.defaults(), 0.25, 0, 1);
    Dataset val = Dataset.load(split.val().file(), DataOptions.defaults());
    assertEquals(
        10, val.examples().stream().filter(e -> e.label().equals("0")).count(), "10 of 40");
  }

  @Test
  void banking77CsvMapsCategoryToLabel() {
    Path file = TestFiles.copy("banking77_train.csv", dir);
    DataStats s = checkAndSplit(file, DataOptions.defaults(), Task.CLASSIFICATION, 201);
    assertTrue(s.labelCounts().size() > 60, "intents: " + s.labelCounts().size());
    assertTrue(
        s.advice().stream().anyMatch(a -> a.kind().equals("few-shot")), s.advice()::toString);
  }

  /** Conversion: CLINC150's JSON object of [text, intent] lists → JSONL with text/label. */
  @Test
  void clinc150AfterConversion() throws IOException {
    JsonNode all = Readers.JSON.readTree(TestFiles.copy("clinc150_small.json", dir).toFile());
    List<ObjectNode> rows = new ArrayList<>();
    for (String key : List.of("train", "oos_train")) {
      for (JsonNode pair : all.get(key)) {
        rows.add(
            Readers.JSON
                .createObjectNode()
                .put("text", pair.get(0).asText())
                .put("label", pair.get(1).asText()));
      }
    }
    Path file = writeJsonl(dir.resolve("clinc150.jsonl"), rows);
    DataStats s = checkAndSplit(file, DataOptions.defaults(), Task.CLASSIFICATION, rows.size());
    assertEquals(10, s.labelCounts().get("oos"));
    // The untouched file is a JSON object, not JSON Lines: the user is told so, line by line.
    assertFalse(
        Validator.validate(dir.resolve("clinc150_small.json"), DataOptions.defaults(), e -> {})
            .valid());
  }

  @Test
  void wnut17Conll() {
    Path file = TestFiles.copy("wnut17_dev.conll", dir);
    DataStats s = checkAndSplit(file, DataOptions.defaults(), Task.TOKEN_CLASSIFICATION, 40);
    assertTrue(s.labelCounts().containsKey("person"), s.labelCounts()::toString);
    Dataset d = Dataset.load(file, DataOptions.defaults());
    TokenExample first = (TokenExample) d.examples().get(0);
    assertEquals(List.of("Stabilized", "approach", "or", "not"), first.tokens().subList(0, 4));
    assertEquals(1, first.line());
    assertTrue(d.labels().contains("B-person"));
  }

  /** Conversion: Alpaca's JSON array → one object per line (jq -c '.[]'). */
  @Test
  void alpacaAfterConversion() throws IOException {
    Path json = TestFiles.copy("alpaca_first30.json", dir);
    List<ObjectNode> rows = new ArrayList<>();
    Readers.JSON.readTree(json.toFile()).forEach(n -> rows.add((ObjectNode) n));
    Path file = writeJsonl(dir.resolve("alpaca.jsonl"), rows);
    DataStats s = checkAndSplit(file, DataOptions.defaults(), Task.INSTRUCTION, 30);
    assertNull(s.roles());
    assertTrue(s.advice().stream().anyMatch(a -> a.kind().equals("too-few-examples")));
  }

  /** Conversion: DialogSum's dialogue/summary → prompt/completion (summarisation as generation). */
  @Test
  void dialogsumAfterConversion() throws IOException {
    Path src = TestFiles.copy("dialogsum_dev.jsonl", dir);
    List<ObjectNode> rows = new ArrayList<>();
    for (String line : Files.readAllLines(src)) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode n = Readers.JSON.readTree(line);
      rows.add(
          Readers.JSON
              .createObjectNode()
              .put("prompt", "Summarize the dialogue:\n" + n.get("dialogue").asText())
              .put("completion", n.get("summary").asText()));
    }
    Path file = writeJsonl(dir.resolve("dialogsum.jsonl"), rows);
    checkAndSplit(file, DataOptions.defaults(), Task.GENERATION, 30);
    // As shipped, the fields name no Whet task.
    ValidationReport raw = Validator.validate(src, DataOptions.defaults(), e -> {});
    assertTrue(raw.errors().get(0).message().startsWith("cannot tell the task"));
  }

  /** Conversion: AG News has no header row; prepend {@code text<TAB>label}. */
  @Test
  void agNewsAfterAddingAHeader() throws IOException {
    Path src = TestFiles.copy("ag_news_dev.tsv", dir);
    Path file = dir.resolve("ag_news.tsv");
    Files.write(
        file, concat("text\tlabel\n".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(src)));
    DataOptions o = DataOptions.defaults().withQuotes(false);
    DataStats s = checkAndSplit(file, o, Task.CLASSIFICATION, 201);
    assertEquals(
        List.of("Business", "Sci/Tech", "Sports", "World"), List.copyOf(s.labelCounts().keySet()));
  }

  /**
   * Conversion: TREC's {@code COARSE:fine question} lines → {@code question<TAB>label} with the
   * coarse class, bytes kept in ISO-8859-1 so {@code --encoding} is exercised.
   */
  @Test
  void trecAfterConversionInIso88591() throws IOException {
    Path src = TestFiles.copy("trec_train.label", dir);
    List<String> lines = new ArrayList<>(List.of("question\tlabel"));
    for (String line : Files.readAllLines(src, StandardCharsets.ISO_8859_1)) {
      int space = line.indexOf(' ');
      lines.add(line.substring(space + 1) + "\t" + line.substring(0, line.indexOf(':')));
    }
    Path file = dir.resolve("trec.tsv");
    Files.write(file, lines, StandardCharsets.ISO_8859_1);
    DataOptions latin1 =
        DataOptions.defaults().withEncoding(StandardCharsets.ISO_8859_1).withQuotes(false);
    DataStats s = checkAndSplit(file, latin1, Task.CLASSIFICATION, 200);
    assertTrue(s.labelCounts().containsKey("DESC"));
    Dataset d = Dataset.load(file, latin1);
    assertTrue(
        ((ClassificationExample) d.examples().get(65)).text().contains("sister\u00a0city")
            || ((ClassificationExample) d.examples().get(65)).text().contains("sister"),
        "decoded as Latin-1");
    // Read as UTF-8, the same file is reported at the exact line of the Latin-1 byte.
    ValidationReport utf8 =
        Validator.validate(file, DataOptions.defaults().withQuotes(false), e -> {});
    assertEquals(67, utf8.errors().get(0).line());
    assertTrue(utf8.errors().get(0).message().startsWith("invalid UTF-8 byte sequence"));
  }

  /** Conversion: STS-B's 7+ headerless columns → JSONL sentence1/sentence2/score. */
  @Test
  void stsbAfterConversion() throws IOException {
    Path src = TestFiles.copy("stsb_train.csv", dir);
    List<ObjectNode> rows = new ArrayList<>();
    for (String line : Files.readAllLines(src)) {
      String[] c = line.split("\t", -1);
      rows.add(
          Readers.JSON
              .createObjectNode()
              .put("sentence1", c[5])
              .put("sentence2", c[6])
              .put("score", Double.parseDouble(c[4])));
    }
    Path file = writeJsonl(dir.resolve("stsb.jsonl"), rows);
    DataStats s = checkAndSplit(file, DataOptions.defaults(), Task.SIMILARITY, 200);
    assertTrue(s.labelCounts().isEmpty());
    SimilarityExample first =
        (SimilarityExample) Dataset.load(file, DataOptions.defaults()).examples().get(0);
    assertEquals(5.0, first.score());
  }

  /** MRPC is read as shipped: BOM, raw quotes (so --no-quotes) and named columns. */
  @Test
  void mrpcWithBomAndNamedColumns() {
    Path file = TestFiles.copy("mrpc_train.tsv", dir);
    DataOptions o =
        DataOptions.defaults().withQuotes(false).withColumns("#1 String", "#2 String", "Quality");
    DataStats s = checkAndSplit(file, o, Task.PAIR_CLASSIFICATION, 200);
    assertEquals(List.of("0", "1"), List.copyOf(s.labelCounts().keySet()));
    ClassificationExample first = (ClassificationExample) Dataset.load(file, o).examples().get(0);
    assertTrue(first.text().startsWith("Amrozi accused his brother"));
    assertNotNull(first.textPair());
    // With CSV quoting on, a field that starts with a quote swallows the following lines.
    ValidationReport quoted = Validator.validate(file, o.withQuotes(true), e -> {});
    assertFalse(quoted.valid());
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
