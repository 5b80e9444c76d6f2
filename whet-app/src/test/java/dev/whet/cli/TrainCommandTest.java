package dev.whet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.WhetException;
import dev.whet.model.ClassifierModel;
import dev.whet.model.TinyBert;
import dev.whet.train.Training;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The "contract for scripts" of `whet train` and `whet predict`, on a tiny model. */
@Tag("engine")
class TrainCommandTest {
  @TempDir static Path dir;
  static Path base;
  static Path train;
  static Path val;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void setUp() throws Exception {
    System.setProperty("whet.home", dir.resolve("home").toString());
    base = TinyBert.create(dir.resolve("tiny"), 3);
    List<String> lines;
    try (InputStream in = TinyBert.class.getResourceAsStream("/data/sst2/dev-200.jsonl")) {
      lines =
          new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().toList();
    }
    train = Files.write(dir.resolve("train.jsonl"), lines.subList(0, 64));
    val = Files.write(dir.resolve("val.jsonl"), lines.subList(64, 96));
  }

  @AfterAll
  static void restore() {
    System.clearProperty("whet.home");
  }

  @Test
  void trainJsonEndsWithTheResultObjectAndPredictWritesOneObjectPerLine() throws Exception {
    Path out = dir.resolve("run");
    Cli.Result r =
        Cli.run(
            "train",
            "--base",
            base.toString(),
            "--train",
            train.toString(),
            "--val",
            val.toString(),
            "--task",
            "classify",
            "--out",
            out.toString(),
            "--epochs",
            "1",
            "--lr",
            "1e-3",
            "--batch-size",
            "16",
            "--max-length",
            "32",
            "--seed",
            "5",
            "--json");
    assertEquals(0, r.exit(), r.err());
    JsonNode result = JSON.readTree(r.lastLine());
    for (String field : List.of("run_dir", "model_dir", "best_metric", "train_seconds")) {
      assertTrue(result.has(field), field + " in " + result);
    }
    assertEquals(out.toString(), result.get("run_dir").asText());
    for (String f :
        List.of(
            "job.yaml", "data_stats.json", "metrics.jsonl", "events.jsonl", "model/whet.json")) {
      assertTrue(Files.isRegularFile(out.resolve(f)), f);
    }
    assertTrue(Files.readString(out.resolve("job.yaml")).startsWith("# whet train job.yaml"));

    Path outFile = dir.resolve("pred.jsonl");
    Cli.Result p =
        Cli.run(
            "predict",
            result.get("model_dir").asText(),
            "--file",
            val.toString(),
            "--out",
            outFile.toString());
    assertEquals(0, p.exit(), p.err());
    List<String> predictions = Files.readAllLines(outFile);
    assertEquals(32, predictions.size());
    for (String line : predictions) {
      JsonNode row = JSON.readTree(line);
      assertTrue(List.of("negative", "positive").contains(row.get("label").asText()), line);
      double sum =
          row.get("probs").get("negative").asDouble() + row.get("probs").get("positive").asDouble();
      assertEquals(1.0, sum, 1e-5);
    }

    // Training ended with an evaluation: baselines, forgetting check, report.
    for (String f : List.of("eval/eval.json", "eval/report.html", "eval/predictions.jsonl")) {
      assertTrue(Files.isRegularFile(out.resolve(f)), f);
    }
    Cli.Result e =
        Cli.run("eval", out.toString(), "--data", val.toString(), "--baselines", "--json");
    assertEquals(0, e.exit(), e.err());
    JsonNode eval = JSON.readTree(e.lastLine());
    assertEquals(32, eval.get("n").asInt());
    assertTrue(eval.get("accuracy").isNumber() && eval.get("f1_macro").isNumber(), eval.toString());
    for (String system : List.of("knn", "centroid", "linear_probe", "tfidf_logreg", "fine_tuned")) {
      JsonNode b = eval.get("baselines").get(system);
      assertTrue(b != null && b.get("accuracy").isNumber() && b.get("f1_macro").isNumber(), system);
    }
    assertEquals(
        eval.get("accuracy").asDouble(),
        eval.get("baselines").get("fine_tuned").get("accuracy").asDouble(),
        0);

    // A second run with LoRA, then one table across both.
    Path lora = dir.resolve("run-lora");
    Cli.Result second =
        Cli.run(
            "train",
            "--base",
            base.toString(),
            "--train",
            train.toString(),
            "--out",
            lora.toString(),
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--max-length",
            "32",
            "--method",
            "lora",
            "--set",
            "evaluate=false",
            "--quiet");
    assertEquals(0, second.exit(), second.err());
    Cli.Result c =
        Cli.run("compare", out.toString(), lora.toString(), "--data", val.toString(), "--json");
    assertEquals(0, c.exit(), c.err());
    JsonNode table = JSON.readTree(c.lastLine());
    assertEquals(2, table.get("runs").size());
    for (JsonNode row : table.get("runs")) {
      for (String f :
          List.of(
              "f1_macro",
              "f1_macro_interval",
              "parameters",
              "trainable_parameters",
              "train_seconds",
              "latency_ms",
              "size_bytes")) {
        assertTrue(row.has(f), f + " in " + row);
      }
    }
    JsonNode loraRow =
        table.get("runs").get(0).get("method").asText().equals("lora")
            ? table.get("runs").get(0)
            : table.get("runs").get(1);
    assertTrue(loraRow.get("trainable_parameters").asLong() < loraRow.get("parameters").asLong());

    Cli.Result again = Cli.run("train", "--resume", out.toString());
    assertEquals(1, again.exit());
    assertTrue(again.err().contains("already finished"), again.err());
  }

  /**
   * Issue 21: a checkpoint exported as a model is the run's model at that step — the last one gives
   * the saved model's probabilities exactly, LoRA merged as the run's model is; an earlier one
   * differs.
   */
  @Test
  void checkpointsExportAsModelsOfTheirStep() throws Exception {
    Path out = dir.resolve("ckpt-run");
    Cli.Result r =
        Cli.run(
            "train",
            "--base",
            base.toString(),
            "--train",
            train.toString(),
            "--task",
            "classify",
            "--out",
            out.toString(),
            "--epochs",
            "2",
            "--lr",
            "1e-2",
            "--batch-size",
            "16",
            "--max-length",
            "32",
            "--method",
            "lora",
            "--precision",
            "fp32",
            "--set",
            "save_every=4",
            "--set",
            "keep_checkpoints=2",
            "--set",
            "evaluate=false",
            "--json");
    assertEquals(0, r.exit(), r.err());
    List<String> texts = List.of("a charming journey", "bleak and desperate");
    float[][] saved;
    try (ClassifierModel m = ClassifierModel.load(out.resolve("model"))) {
      saved = m.predict(texts, null);
    }
    float[][] last;
    try (ClassifierModel m =
        ClassifierModel.load(Training.exportCheckpoint(out, 8, dir.resolve("ckpt-8")))) {
      last = m.predict(texts, null);
    }
    float[][] earlier;
    try (ClassifierModel m =
        ClassifierModel.load(Training.exportCheckpoint(out, 4, dir.resolve("ckpt-4")))) {
      earlier = m.predict(texts, null);
    }
    for (int i = 0; i < texts.size(); i++) {
      for (int j = 0; j < saved[i].length; j++) {
        assertEquals(saved[i][j], last[i][j], 1e-5, texts.get(i));
      }
    }
    assertTrue(Math.abs(earlier[0][0] - last[0][0]) > 1e-4, "step 4 is not step 8");
    WhetException missing =
        org.junit.jupiter.api.Assertions.assertThrows(
            WhetException.class, () -> Training.exportCheckpoint(out, 3, dir.resolve("ckpt-3")));
    assertTrue(
        missing.getMessage().contains("no checkpoint at step 3; it holds [4, 8]"),
        missing.getMessage());
  }

  @Test
  void printConfigShowsEveryDefaultAndFlagsWin() {
    Cli.Result r =
        Cli.run(
            "train",
            "--train",
            "x.jsonl",
            "--lr",
            "2e-5",
            "--set",
            "lora.rank=4",
            "--print-config");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("lr: 2e-5"), r.out());
    assertTrue(r.out().contains("rank: 4"), r.out());
    assertTrue(r.out().contains("weight_decay: 0.01"), r.out());
    assertTrue(r.out().contains("early_stopping_patience: 0"), r.out());
  }

  @Test
  void badJobsGetOneClearSentence() throws Exception {
    Cli.Result unknown = Cli.run("train", "--train", train.toString(), "--set", "lerning_rate=1");
    assertEquals(1, unknown.exit());
    assertTrue(unknown.err().contains("unknown key 'lerning_rate'"), unknown.err());

    Path job = Files.writeString(dir.resolve("job.yaml"), "train: a.jsonl\nepochz: 3\n");
    Cli.Result badFile = Cli.run("train", job.toString());
    assertEquals(1, badFile.exit());
    assertTrue(badFile.err().contains("unknown key 'epochz'"), badFile.err());

    Cli.Result badMethod = Cli.run("train", "--train", train.toString(), "--method", "magic");
    assertTrue(
        badMethod.err().contains("method 'magic' is not one of full, freeze, lora"),
        badMethod.err());
  }

  @Test
  void setfitTrainsTheEncoderOnPairsThenFitsItsHead() throws Exception {
    Path out = dir.resolve("run-setfit");
    Cli.Result r =
        Cli.run(
            "train",
            "--base",
            base.toString(),
            "--train",
            train.toString(),
            "--val",
            val.toString(),
            "--method",
            "setfit",
            "--out",
            out.toString(),
            "--batch-size",
            "16",
            "--max-length",
            "32",
            "--set",
            "setfit.iterations=2",
            "--json");
    assertEquals(0, r.exit(), r.err());
    JsonNode w = JSON.readTree(out.resolve("model/whet.json").toFile());
    assertEquals("setfit", w.get("method").asText());
    assertEquals("classify", w.get("task").asText());
    // The head reads the tuned embeddings pooled as the base pools them (mean, not normalised, for
    // this base without sentence-transformers files; MiniLM's are normalised).
    assertEquals("mean", w.get("pooling").asText());
    // Two rounds, each example once with a partner of its label (the ranking loss's negatives are
    // the batch's other labels).
    assertEquals(2 * 64, w.get("setfit_pairs").asInt());
    assertTrue(
        Files.readString(out.resolve("events.jsonl")).contains("contrastive pairs"),
        "the pairs are announced");
    // An ordinary classifier from here on: evaluated at the end, predicts, and its head fits its
    // training data as a logistic regression on 64 examples does.
    assertTrue(Files.isRegularFile(out.resolve("eval/eval.json")));
    Path pred = dir.resolve("setfit-pred.jsonl");
    Cli.Result p =
        Cli.run("predict", out.toString(), "--file", train.toString(), "--out", pred.toString());
    assertEquals(0, p.exit(), p.err());
    List<String> gold = Files.readAllLines(train);
    List<String> got = Files.readAllLines(pred);
    int right = 0;
    for (int i = 0; i < gold.size(); i++) {
      right +=
          JSON.readTree(gold.get(i))
                  .get("label")
                  .asText()
                  .equals(JSON.readTree(got.get(i)).get("label").asText())
              ? 1
              : 0;
    }
    System.out.println("setfit: " + right + " of 64 training examples right");
    assertTrue(right >= 48, right + " of 64 training examples");
  }

  @Test
  void multiLabelTrainsAndEvaluates() throws Exception {
    // Two independent labels per text: its sentiment, and "short" for texts under eight words.
    List<String> lines = new java.util.ArrayList<>();
    for (String line : Files.readAllLines(train)) {
      JsonNode n = JSON.readTree(line);
      String text = n.get("text").asText();
      List<String> labels = new java.util.ArrayList<>(List.of(n.get("label").asText()));
      if (text.split(" ").length < 8) {
        labels.add("short");
      }
      lines.add(JSON.writeValueAsString(java.util.Map.of("text", text, "labels", labels)));
    }
    Path ml = Files.write(dir.resolve("multilabel.jsonl"), lines);
    Path mlTrain = Files.write(dir.resolve("multilabel-train.jsonl"), lines.subList(0, 48));
    Path mlVal = Files.write(dir.resolve("multilabel-val.jsonl"), lines.subList(48, 64));
    Path out = dir.resolve("run-ml");
    // Issue 17, item 3: with a validation file the end-of-run evaluation used to throw.
    Cli.Result r =
        Cli.run(
            "train",
            "--base",
            base.toString(),
            "--train",
            mlTrain.toString(),
            "--val",
            mlVal.toString(),
            "--task",
            "multilabel",
            "--out",
            out.toString(),
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--max-length",
            "32",
            "--json");
    assertEquals(0, r.exit(), r.err());
    assertTrue(Files.isRegularFile(out.resolve("eval/report.html")), "evaluated at the end");
    // Scored on another file, the thresholds are tuned on the validation file.
    Cli.Result e =
        Cli.run("eval", out.toString(), "--data", ml.toString(), "--baselines", "--json");
    assertEquals(0, e.exit(), e.err());
    JsonNode scores = JSON.readTree(e.lastLine());
    assertEquals(64, scores.get("n").asInt());
    for (String f : List.of("accuracy", "f1_macro")) {
      assertTrue(scores.get(f).isNumber(), f + " in " + scores);
    }
    JsonNode ml2 = scores.get("multi_label");
    assertEquals("per label, the best F1 on the validation file", ml2.get("thresholds").asText());
    JsonNode tuned = ml2.get("systems").get("fine_tuned");
    assertTrue(
        tuned.get("micro_f1").isNumber() && tuned.get("hamming_loss").isNumber(), ml2.toString());
    assertEquals(3, tuned.get("labels").size(), "negative, positive, short");
    for (String system : List.of("tfidf_logreg", "linear_probe")) {
      JsonNode b = scores.get("baselines").get(system);
      assertTrue(b.get("setting").asText().contains("cross-validation"), b.toString());
      assertTrue(ml2.get("systems").has(system), system);
    }
    assertFalse(scores.get("verdict").asText().isBlank());
    assertTrue(scores.get("forgetting").get("before").isNumber(), "the forgetting check ran");
    assertTrue(Files.readString(out.resolve("eval/report.html")).contains("<h2>Per label"));
    Cli.Result p = Cli.run("predict", out.toString(), "a short text", "--json");
    assertEquals(0, p.exit(), p.err());
    assertTrue(JSON.readTree(p.lastLine()).get("label").isArray(), p.out());
  }
}
