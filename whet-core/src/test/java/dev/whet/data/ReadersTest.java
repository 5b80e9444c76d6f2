package dev.whet.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The format details real exports have: quotes, BOMs, CRLF, other encodings, column names. */
class ReadersTest {
  @TempDir Path dir;

  private Dataset load(String name, byte[] bytes, DataOptions o) throws IOException {
    return Dataset.load(Files.write(dir.resolve(name), bytes), o);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void csvQuotedFieldsWithNewlinesDelimitersAndEscapedQuotes() throws IOException {
    String csv =
        "\ufefftext,label\r\n"
            + "\"line one\r\nline two, still \"\"quoted\"\"\",pos\r\n"
            + "plain,neg\r\n"
            + "\"\",neg\r\n";
    var r =
        Validator.validate(
            Files.write(dir.resolve("q.csv"), utf8(csv)), DataOptions.defaults(), e -> {});
    assertEquals(
        "q.csv:5: field \"text\" is empty — remove the record or fill it in",
        r.errors().get(0).toString().replace(dir + "/", ""));
    Dataset d = load("ok.csv", utf8(csv.replace("\"\",neg\r\n", "")), DataOptions.defaults());
    ClassificationExample first = (ClassificationExample) d.examples().get(0);
    assertEquals("line one\nline two, still \"quoted\"", first.text());
    assertEquals(List.of("pos"), first.labels());
    assertEquals(4, d.examples().get(1).line(), "line numbers count physical lines");
  }

  @Test
  void explicitColumnsAndLatin1() throws IOException {
    byte[] latin1 = "id;comment;stars\n1;tr\u00e8s bien;5\n".getBytes(StandardCharsets.ISO_8859_1);
    DataOptions o =
        DataOptions.defaults()
            .withFormat("csv")
            .withEncoding(StandardCharsets.ISO_8859_1)
            .withColumns("comment", null, "stars");
    // ';' is not the CSV delimiter: one column, so the named columns are missing.
    var r = Validator.validate(Files.write(dir.resolve("s.csv"), latin1), o, e -> {});
    assertTrue(r.errors().get(0).message().startsWith("no column 'comment' in the header"));
    byte[] comma = "id,comment,stars\n1,tr\u00e8s bien,5\n".getBytes(StandardCharsets.ISO_8859_1);
    Dataset d = load("c.csv", comma, o);
    assertEquals("tr\u00e8s bien", ((ClassificationExample) d.examples().get(0)).text());
    assertEquals(List.of("5"), d.labels());
  }

  @Test
  void headerAliasesAndTaskDetection() throws IOException {
    Dataset d = load("a.tsv", utf8("Sentence\tSentiment\nok\tpos\n"), DataOptions.defaults());
    assertEquals(Task.CLASSIFICATION, d.task());
    Dataset sts =
        load("s.csv", utf8("sentence1,sentence2,score\na,b,4.5\n"), DataOptions.defaults());
    assertEquals(Task.SIMILARITY, sts.task());
    assertEquals(4.5, ((SimilarityExample) sts.examples().get(0)).score());
    Dataset pair =
        load(
            "p.jsonl",
            utf8("{\"sentence1\": \"a\", \"sentence2\": \"b\", \"label\": 1}\n"),
            DataOptions.defaults());
    assertEquals(Task.PAIR_CLASSIFICATION, pair.task());
    assertEquals("b", ((ClassificationExample) pair.examples().get(0)).textPair());
  }

  @Test
  void conllSkipsDocstartAndAcceptsSpaces() throws IOException {
    Dataset d =
        load(
            "n.conll",
            utf8("-DOCSTART- -X- O O\n\nEU NNP B-ORG\nrejects VBZ O\n\n\nGerman JJ B-MISC\n"),
            DataOptions.defaults());
    assertEquals(2, d.size());
    TokenExample first = (TokenExample) d.examples().get(0);
    assertEquals(List.of("EU", "rejects"), first.tokens());
    assertEquals(List.of("B-ORG", "O"), first.tags());
    assertEquals(3, first.line());
    assertEquals(7, d.examples().get(1).line());
  }

  @Test
  void taskParsesCliNamesAndSynonyms() {
    assertEquals(Task.GENERATION, Task.parse("sft"));
    assertEquals(Task.MULTI_LABEL, Task.parse("multilabel"));
    assertEquals(Task.TOKEN_CLASSIFICATION, Task.parse("NER"));
    assertEquals(Task.EMBEDDING_PAIRS, Task.parse("embedding_pairs"));
    assertEquals("similarity", Task.SIMILARITY.cliName());
  }
}
