package dev.whet.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A realistic report without a model: 4 classes, synthetic texts and the embedding fixture, the
 * "fine-tuned" predictions made by corrupting the gold labels. {@code hostile} puts HTML/script
 * injections into every text field that comes from data or configuration.
 */
final class SampleReport {
  private SampleReport() {}

  static final String HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)>\"'&";

  static ReportData build(boolean hostile) {
    JsonNode emb = Fixtures.load("embeddings.json");
    float[][] trainEmb = Fixtures.floats(emb.get("train"));
    float[][] testEmb = Fixtures.floats(emb.get("test"));
    int[] trainLabels = Fixtures.ints(emb.get("train_labels"));
    int[] gold = Fixtures.ints(emb.get("test_labels"));
    List<String> labels =
        List.of("world", "sports", "business", hostile ? "sci/tech " + HOSTILE : "sci/tech");
    Random random = new Random(11);
    List<String> trainTexts = texts(trainLabels, random, false);
    List<String> testTexts = texts(gold, random, hostile);

    int[] pred = new int[gold.length];
    double[][] probs = new double[gold.length][4];
    for (int i = 0; i < gold.length; i++) {
      pred[i] = random.nextDouble() < 0.12 ? (gold[i] + 1 + random.nextInt(3)) % 4 : gold[i];
      double conf = 0.55 + 0.44 * random.nextDouble();
      for (int c = 0; c < 4; c++) probs[i][c] = c == pred[i] ? conf : (1 - conf) / 3;
    }
    Evaluation ev = new Evaluation(labels, gold, testTexts, trainTexts, trainLabels);
    ev.add("fine_tuned", "Fine-tuned model", pred, probs, 1.7);
    ev.addBaselines(trainEmb, testEmb);

    ObjectMapper json = new ObjectMapper();
    Map<String, Object> stats = new LinkedHashMap<>();
    stats.put("train_examples", trainTexts.size());
    stats.put("test_examples", testTexts.size());
    stats.put("note", hostile ? HOSTILE : "synthetic sample");
    Map<String, Double> timings = new LinkedHashMap<>();
    timings.put("training", 812.4);
    timings.put("evaluation", 3.2);
    EvalResult result =
        ev.result(
            hostile ? "run-" + HOSTILE : "run-2026-11-23-sample",
            "fine_tuned",
            ForgettingCheck.of("STS-B test, Spearman (cosine vs gold)", 0.821, 0.786),
            json.valueToTree(stats),
            timings);
    String config =
        "# whet train job.yaml\nbase_model: all-minilm-l6-v2\nlr: 5.0e-5\nepochs: 3\n"
            + (hostile ? "note: " + HOSTILE + "\n" : "");
    return new ReportData(
        hostile ? "whet eval " + HOSTILE : "whet eval: sample run", result, log(), config);
  }

  private static List<String> texts(int[] labels, Random random, boolean hostile) {
    String[][] words = {
      {"election", "minister", "treaty", "border", "parliament"},
      {"match", "goal", "league", "coach", "season"},
      {"shares", "profit", "market", "merger", "bank"},
      {"software", "chip", "space", "research", "internet"}
    };
    String[] filler = {"the", "new", "report", "says", "today", "after", "week", "big"};
    List<String> out = new ArrayList<>();
    for (int i = 0; i < labels.length; i++) {
      StringBuilder b = new StringBuilder();
      for (int w = 0; w < 8; w++) {
        boolean topical = random.nextDouble() < 0.35;
        // a quarter of the topical words come from a random class, so the task is not trivial
        int c = random.nextDouble() < 0.25 ? random.nextInt(4) : labels[i];
        b.append(topical ? words[c][random.nextInt(5)] : filler[random.nextInt(filler.length)]);
        b.append(' ');
      }
      if (hostile) b.append(HOSTILE);
      out.add(b.toString().trim());
    }
    return out;
  }

  private static TrainingLog log() {
    List<String> lines = new ArrayList<>();
    for (int step = 10; step <= 600; step += 10) {
      double lr = step < 60 ? 5e-5 * step / 60 : 5e-5 * (600 - step) / 540;
      double loss = 1.4 * Math.exp(-step / 150.0) + 0.15 + 0.03 * Math.sin(step);
      lines.add(
          String.format(
              java.util.Locale.ROOT, "{\"step\":%d,\"loss\":%.4f,\"lr\":%.3e}", step, loss, lr));
      if (step % 100 == 0) {
        lines.add(
            String.format(
                java.util.Locale.ROOT,
                "{\"step\":%d,\"eval_loss\":%.4f,\"eval_accuracy\":%.4f,\"eval_f1_macro\":%.4f}",
                step,
                1.2 * Math.exp(-step / 200.0) + 0.3,
                0.9 - 0.4 * Math.exp(-step / 150.0),
                0.88 - 0.45 * Math.exp(-step / 150.0)));
      }
    }
    return TrainingLog.parse(lines, "metrics.jsonl");
  }
}
