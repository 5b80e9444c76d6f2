package dev.whet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.model.ModelRef;
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
 * Issue 18, sentence embeddings: `whet train --task similarity|embed` on real STS-B and MRPC pairs
 * and a tiny model; the saved model is a sentence-transformers directory that Whet's encoder loads
 * back to the very vectors training scored, and `whet eval --json` follows the contract.
 */
@Tag("engine")
class EmbedTrainingTest {
  @TempDir static Path dir;
  static Path base;
  static Path sts;
  static Path pairs;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void setUp() throws Exception {
    System.setProperty("whet.home", dir.resolve("home").toString());
    base = TinyBert.create(dir.resolve("tiny"), 5);
    List<String> stsLines = new ArrayList<>();
    for (String line : resource("/data/stsb_train.csv")) {
      String[] f = line.split("\t");
      ObjectNode o = JSON.createObjectNode();
      o.put("sentence1", f[5]).put("sentence2", f[6]).put("score", Double.parseDouble(f[4]));
      stsLines.add(o.toString());
    }
    sts = Files.write(dir.resolve("sts.jsonl"), stsLines.subList(0, 64));
    List<String> pairLines = new ArrayList<>();
    for (String line : resource("/data/mrpc_train.tsv").subList(1, 201)) {
      String[] f = line.split("\t");
      if (f[0].equals("1")) {
        pairLines.add(JSON.createObjectNode().put("anchor", f[3]).put("positive", f[4]).toString());
      }
    }
    pairs = Files.write(dir.resolve("pairs.jsonl"), pairLines.subList(0, 48));
  }

  static List<String> resource(String name) throws Exception {
    try (InputStream in = TinyBert.class.getResourceAsStream(name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
  }

  @AfterAll
  static void restore() {
    System.clearProperty("whet.home");
  }

  private static JsonNode train(String task, Path data, Path out, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "train",
                "--task",
                task,
                "--base",
                base.toString(),
                "--train",
                data.toString(),
                "--val",
                data.toString(),
                "--out",
                out.toString(),
                "--max-length",
                "48",
                "--precision",
                "fp32",
                "--seed",
                "3",
                "--json"));
    args.addAll(List.of(more));
    Cli.Result r = Cli.run(args.toArray(String[]::new));
    assertEquals(0, r.exit(), r.err());
    try {
      return JSON.readTree(r.lastLine());
    } catch (Exception e) {
      throw new AssertionError(r.out(), e);
    }
  }

  @Test
  void similarityLearnsItsPairsAndTheSavedModelGivesTheSameVectors() throws Exception {
    Path out = dir.resolve("sts-run");
    JsonNode result =
        train(
            "similarity",
            sts,
            out,
            "--epochs",
            "30",
            "--lr",
            "1e-3",
            "--batch-size",
            "16",
            "--set",
            "dropout=0",
            "--set",
            "warmup=0");
    assertEquals("spearman", result.get("metric").asText());
    double trained = result.get("validation").get("spearman").asDouble();
    Path model = Path.of(result.get("model_dir").asText());
    for (String f :
        List.of(
            "config.json",
            "model.safetensors",
            "tokenizer.json",
            "modules.json",
            "1_Pooling/config.json",
            "sentence_bert_config.json",
            "config_sentence_transformers.json",
            "whet.json")) {
      assertTrue(Files.isRegularFile(model.resolve(f)), f);
    }
    assertEquals(ModelRef.Kind.ENCODER, ModelRef.kindOf(model), "served like its base");

    Cli.Result e = Cli.run("eval", out.toString(), "--data", sts.toString(), "--json");
    assertEquals(0, e.exit(), e.err());
    JsonNode eval = JSON.readTree(e.lastLine());
    assertEquals("similarity", eval.get("task").asText());
    assertEquals(64, eval.get("n").asInt());
    // Reloaded from its sentence-transformers files, the model scores what training measured.
    assertEquals(trained, eval.get("spearman").asDouble(), 1e-4);
    assertTrue(eval.get("base_spearman").isNumber());
    assertTrue(trained > 0.8, "Spearman on the training pairs: " + trained);
    assertTrue(
        eval.get("spearman").asDouble() > eval.get("base_spearman").asDouble() + 0.2,
        eval.toString());
    assertTrue(eval.get("verdict").asText().contains("paid off"), eval.get("verdict").asText());
    assertTrue(Files.isRegularFile(out.resolve("eval/report.html")));

    // `whet embed` serves it as it serves a base model.
    Cli.Result v = Cli.run("embed", "--base", model.toString(), "A plane is taking off.");
    assertEquals(0, v.exit(), v.err());
  }

  @Test
  void pairsTrainWithInBatchNegativesAndReportRetrieval() throws Exception {
    Path out = dir.resolve("pairs-run");
    JsonNode result =
        train(
            "embed",
            pairs,
            out,
            "--epochs",
            "20",
            "--lr",
            "1e-3",
            "--batch-size",
            "16",
            "--set",
            "dropout=0",
            "--set",
            "warmup=0");
    assertEquals("mrr", result.get("metric").asText());
    Cli.Result e = Cli.run("eval", out.toString(), "--data", pairs.toString(), "--json");
    assertEquals(0, e.exit(), e.err());
    JsonNode eval = JSON.readTree(e.lastLine());
    for (String f : List.of("recall_at_1", "recall_at_10", "mrr", "base_mrr", "difference")) {
      assertTrue(eval.has(f), f + " in " + eval);
    }
    assertEquals(result.get("validation").get("mrr").asDouble(), eval.get("mrr").asDouble(), 1e-4);
    assertTrue(eval.get("mrr").asDouble() > eval.get("base_mrr").asDouble(), eval.toString());
  }
}
