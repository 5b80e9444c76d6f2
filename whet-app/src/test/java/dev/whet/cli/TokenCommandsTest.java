package dev.whet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.eval.EntityMetrics;
import dev.whet.eval.Gazetteer;
import dev.whet.model.TinyBert;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18's contract for scripts on token classification, on real WNUT-17 sentences and a tiny
 * model: `whet train --task tokens --json`, `whet eval --json [--baselines]`, `whet predict
 * --file`.
 */
@Tag("engine")
class TokenCommandsTest {
  @TempDir static Path dir;
  static Path base;
  static Path train;
  static Path val;
  static List<List<String[]>> sentences;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void setUp() throws Exception {
    System.setProperty("whet.home", dir.resolve("home").toString());
    base = TinyBert.create(dir.resolve("tiny"), 3);
    String conll;
    try (InputStream in = TinyBert.class.getResourceAsStream("/data/wnut17_dev_full.conll")) {
      conll = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    sentences = new ArrayList<>();
    List<String[]> current = new ArrayList<>();
    for (String line : conll.split("\n")) {
      if (line.isBlank()) {
        if (!current.isEmpty()) sentences.add(current);
        current = new ArrayList<>();
      } else {
        current.add(line.split("\t"));
      }
    }
    train = write("train.conll", sentences.subList(0, 240));
    val = write("val.conll", sentences.subList(240, 320));
  }

  static Path write(String name, List<List<String[]>> s) throws Exception {
    StringBuilder b = new StringBuilder();
    for (List<String[]> sentence : s) {
      for (String[] row : sentence) b.append(row[0]).append('\t').append(row[1]).append('\n');
      b.append('\n');
    }
    return Files.writeString(dir.resolve(name), b);
  }

  @AfterAll
  static void restore() {
    System.clearProperty("whet.home");
  }

  private static Cli.Result train(Path out, Path trainFile, Path valFile, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "train",
                "--task",
                "tokens",
                "--base",
                base.toString(),
                "--train",
                trainFile.toString(),
                "--val",
                valFile.toString(),
                "--out",
                out.toString(),
                "--max-length",
                "48",
                "--seed",
                "7",
                "--json"));
    args.addAll(List.of(more));
    return Cli.run(args.toArray(String[]::new));
  }

  @Test
  void trainEvalAndPredictFollowTheContract() throws Exception {
    Path out = dir.resolve("run");
    Cli.Result r = train(out, train, val, "--epochs", "1", "--batch-size", "16");
    assertEquals(0, r.exit(), r.err());
    JsonNode result = JSON.readTree(r.lastLine());
    for (String field : List.of("run_dir", "model_dir", "best_metric", "train_seconds")) {
      assertTrue(result.has(field), field + " in " + result);
    }
    assertEquals("entity_f1", result.get("metric").asText());
    JsonNode saved = JSON.readTree(out.resolve("model/config.json").toFile());
    assertEquals("BertForTokenClassification", saved.get("architectures").get(0).asText());
    assertEquals("O", saved.get("id2label").get("0").asText());
    assertTrue(Files.isRegularFile(out.resolve("eval/report.html")), "evaluated at the end");

    Cli.Result e =
        Cli.run("eval", out.toString(), "--data", val.toString(), "--baselines", "--json");
    assertEquals(0, e.exit(), e.err());
    JsonNode eval = JSON.readTree(e.lastLine());
    assertEquals(80, eval.get("n").asInt());
    for (String f : List.of("entity_f1", "entity_precision", "entity_recall")) {
      assertTrue(eval.get(f).isNumber(), f + " in " + eval);
    }
    assertTrue(eval.get("per_type").has("person"), eval.get("per_type").toString());
    for (String f : List.of("precision", "recall", "f1", "support")) {
      assertTrue(eval.get("per_type").get("person").has(f), f);
    }
    for (String system : List.of("gazetteer", "linear_probe", "fine_tuned")) {
      assertTrue(eval.get("baselines").get(system).get("entity_f1").isNumber(), system);
    }
    // The scores are those of the predictions written, by the strict IOB2 scorer.
    List<List<String>> gold = new ArrayList<>();
    List<List<String>> tags = new ArrayList<>();
    for (String line : Files.readAllLines(out.resolve("eval/predictions.jsonl"))) {
      JsonNode row = JSON.readTree(line);
      gold.add(strings(row.get("gold")));
      tags.add(strings(row.get("tags")));
    }
    assertEquals(EntityMetrics.score(gold, tags).f1(), eval.get("entity_f1").asDouble(), 1e-12);
    // The gazetteer is the one the training sentences give.
    Gazetteer g =
        Gazetteer.fit(words(sentences.subList(0, 240)), tagsOf(sentences.subList(0, 240)));
    List<List<String>> gz = words(sentences.subList(240, 320)).stream().map(g::tag).toList();
    assertEquals(
        EntityMetrics.score(tagsOf(sentences.subList(240, 320)), gz).f1(),
        eval.get("baselines").get("gazetteer").get("entity_f1").asDouble(),
        1e-12);
    assertTrue(eval.get("verdict").asText().contains("entity F1"), eval.get("verdict").asText());

    // predict: raw text gets entities with offsets into it; given words get a tag each too.
    Path in = dir.resolve("in.jsonl");
    Files.writeString(
        in,
        "{\"text\": \"I met Taylor Swift in New York, at the Apple store.\"}\n"
            + "{\"tokens\": [\"@paul\", \"loves\", \"Paris\", \"!\"]}\n");
    Path pred = dir.resolve("pred.jsonl");
    Cli.Result p =
        Cli.run("predict", out.toString(), "--file", in.toString(), "--out", pred.toString());
    assertEquals(0, p.exit(), p.err());
    List<String> lines = Files.readAllLines(pred);
    assertEquals(2, lines.size());
    JsonNode first = JSON.readTree(lines.get(0));
    assertTrue(first.get("entities").isArray() && !first.has("tags"), lines.get(0));
    String text = "I met Taylor Swift in New York, at the Apple store.";
    for (JsonNode span : first.get("entities")) {
      assertEquals(
          text.substring(span.get("start").asInt(), span.get("end").asInt()),
          span.get("text").asText());
      assertTrue(span.get("score").asDouble() > 0 && span.get("score").asDouble() <= 1);
    }
    assertEquals(4, JSON.readTree(lines.get(1)).get("tags").size());

    // The same tagger as Transformers leaves it (no whet.json): nothing says what it was tuned
    // from, so the probe and the forgetting check wait for --base instead of running on it.
    Path imported = dir.resolve("imported");
    Files.createDirectories(imported);
    try (var files = Files.list(out.resolve("model"))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        if (!f.getFileName().toString().equals("whet.json")) {
          Files.copy(f, imported.resolve(f.getFileName()));
        }
      }
    }
    Cli.Result plain = evalOnVal(imported);
    assertEquals(0, plain.exit(), plain.err());
    // (Its windows are the model's full length now, not the run's 48 tokens: scores move a little.)
    assertTrue(JSON.readTree(plain.lastLine()).get("entity_f1").isNumber(), plain.lastLine());
    assertFalse(JSON.readTree(plain.lastLine()).hasNonNull("forgetting"), plain.lastLine());
    assertTrue(plain.err().contains("forgetting check left out") && plain.err().contains("--base"));
    Cli.Result refused = evalOnVal(imported, "--train", train.toString(), "--baselines");
    assertNotEquals(0, refused.exit());
    assertTrue(refused.err().contains("give --base"), refused.err());
    Cli.Result withBase =
        evalOnVal(imported, "--train", train.toString(), "--baselines", "--base", base.toString());
    assertEquals(0, withBase.exit(), withBase.err());
    JsonNode named = JSON.readTree(withBase.lastLine());
    assertTrue(
        named.get("baselines").get("linear_probe").get("entity_f1").isNumber(), named.toString());
    assertTrue(named.hasNonNull("forgetting"), withBase.lastLine());
  }

  /** {@code whet eval MODEL --data val.conll --json} with {@code more} flags. */
  private static Cli.Result evalOnVal(Path model, String... more) {
    List<String> args =
        new ArrayList<>(List.of("eval", model.toString(), "--data", val.toString(), "--json"));
    args.addAll(List.of(more));
    return Cli.run(args.toArray(String[]::new));
  }

  @Test
  void aTaggerLearnsItsTrainingSentences() throws Exception {
    // Entity-rich sentences, trained on until memorised: the alignment of words, sub-tokens and
    // tags must be right end to end for the entity F1 on them to reach 1.
    List<List<String[]>> rich = new ArrayList<>();
    for (List<String[]> s : sentences) {
      if (s.stream().anyMatch(row -> row[1].startsWith("B-")) && s.size() <= 25) rich.add(s);
      if (rich.size() == 12) break;
    }
    Path small = write("rich.conll", rich);
    Cli.Result r =
        train(
            dir.resolve("memorise"),
            small,
            small,
            "--epochs",
            "60",
            "--lr",
            "3e-3",
            "--batch-size",
            "4",
            "--set",
            "warmup=0",
            "--set",
            "evaluate=false",
            "--set",
            "dropout=0");
    assertEquals(0, r.exit(), r.err());
    double f1 = JSON.readTree(r.lastLine()).get("best_metric").asDouble();
    assertTrue(f1 >= 0.9, "entity F1 on the training sentences: " + f1);
  }

  private static List<String> strings(JsonNode a) {
    List<String> out = new ArrayList<>();
    a.forEach(x -> out.add(x.asText()));
    return out;
  }

  private static List<List<String>> words(List<List<String[]>> s) {
    return s.stream().map(x -> x.stream().map(r -> r[0]).toList()).toList();
  }

  private static List<List<String>> tagsOf(List<List<String[]>> s) {
    return s.stream().map(x -> x.stream().map(r -> r[1]).toList()).toList();
  }
}
