package dev.whet.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.WhetException;
import dev.whet.data.ClassificationExample;
import dev.whet.data.Example;
import dev.whet.eval.Baselines;
import dev.whet.eval.LogisticRegression;
import dev.whet.eval.SparseMatrix;
import dev.whet.io.Json;
import dev.whet.model.ClassifierModel;
import dev.whet.model.EmbeddingModel;
import dev.whet.model.Pooling;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * SetFit (Tunstall et al., 2022, "Efficient Few-Shot Learning Without Prompts"): few-shot text
 * classification from sentence embeddings. From the labelled examples, draw pairs — same label
 * (cosine target 1) and different labels (target 0) — fine-tune the encoder on them as {@code
 * --task similarity} does, then fit a logistic regression on the tuned embeddings of the examples,
 * its C chosen by cross-validation as the linear probe's is. The result is saved as an ordinary
 * classifier: the tuned encoder, its pooling, and the regression as the head.
 */
final class SetFit {
  private SetFit() {}

  /** A drawn pair: two texts, whether they share a label, and the first one's label. */
  record Pair(String first, String second, double score, String label) {}

  /**
   * Pairs drawn round by round (seeded): in each round every example gets one partner with its
   * label and, when {@code negatives}, one without, until {@code maxPairs}.
   */
  static List<Pair> pairs(
      List<ClassificationExample> examples,
      int rounds,
      int maxPairs,
      boolean negatives,
      long seed) {
    Map<String, List<Integer>> byLabel = new LinkedHashMap<>();
    for (int i = 0; i < examples.size(); i++) {
      byLabel.computeIfAbsent(label(examples.get(i)), k -> new ArrayList<>()).add(i);
    }
    if (byLabel.size() < 2) {
      throw new WhetException("setfit needs examples of at least two labels");
    }
    Random rng = new Random(seed);
    List<Pair> out = new ArrayList<>();
    for (int round = 0; round < rounds && out.size() < maxPairs; round++) {
      for (int i = 0; i < examples.size() && out.size() < maxPairs; i++) {
        String label = label(examples.get(i));
        List<Integer> same = byLabel.get(label);
        int j = same.get(rng.nextInt(same.size()));
        if (j == i && same.size() > 1) {
          j = same.get((same.indexOf(i) + 1 + rng.nextInt(same.size() - 1)) % same.size());
        }
        out.add(new Pair(examples.get(i).text(), examples.get(j).text(), 1, label));
        if (negatives && out.size() < maxPairs) {
          int k;
          do {
            k = rng.nextInt(examples.size());
          } while (label(examples.get(k)).equals(label));
          out.add(new Pair(examples.get(i).text(), examples.get(k).text(), 0, label));
        }
      }
    }
    return out;
  }

  private static String label(ClassificationExample e) {
    return e.labels().get(0);
  }

  static TrainResult run(
      JobConfig job,
      Path baseDir,
      List<String> labels,
      List<Example> examples,
      RunDir run,
      Checkpoint from,
      List<TrainerListener> listeners) {
    List<ClassificationExample> train = new ArrayList<>();
    examples.forEach(e -> train.add((ClassificationExample) e));
    boolean ranking = job.setfit.loss.equals("ranking");
    List<Pair> pairs = pairs(train, job.setfit.iterations, job.setfit.maxPairs, !ranking, job.seed);
    List<TrainerListener> all = new ArrayList<>();
    all.add(run.logger());
    all.addAll(listeners);
    String drawn =
        pairs.size()
            + " pairs from "
            + train.size()
            + " examples"
            + (ranking
                ? " (same label; the batch's other labels are the negatives)"
                : " (same label: 1, different: 0)");
    all.forEach(l -> l.onEvent("setfit", "contrastive pairs: " + drawn));
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("task", dev.whet.data.Task.SIMILARITY.cliName());
    info.put("base", job.base);
    TrainResult result;
    try (EmbeddingModel body =
        EmbeddingModel.fromBase(
            baseDir, job.maxLength, job.dropout, job.attentionDropout, null, info)) {
      EmbedTask.Pairs encoded =
          EmbedTask.Pairs.of(
              body.tokenizer(),
              pairs.stream().map(Pair::first).toList(),
              pairs.stream().map(Pair::second).toList(),
              null,
              ranking ? null : pairs.stream().mapToDouble(Pair::score).toArray());
      if (ranking) {
        encoded =
            encoded.withGroups(pairs.stream().mapToInt(p -> labels.indexOf(p.label())).toArray());
      }
      result = new Trainer(job.plan(), run, new EmbedTask(body, encoded, null), all).train(from);
    }
    // The tuned encoder is in model/ now; read it back as a classifier and fit its head.
    Path tuned = run.model();
    JsonNode facts = readJson(tuned.resolve("whet.json"));
    Map<String, Object> classifierInfo = new LinkedHashMap<>();
    classifierInfo.put("base", job.base);
    try (ClassifierModel model =
        ClassifierModel.fromBase(
            tuned,
            job.task,
            labels,
            job.maxLength,
            0,
            0,
            Pooling.read(tuned),
            null,
            classifierInfo)) {
      all.forEach(l -> l.onEvent("setfit", "fitting the logistic-regression head on " + drawn));
      float[][] x =
          model.embed(
              train.stream().map(ClassificationExample::text).toList(), model.module().pooling());
      int[] y = train.stream().mapToInt(e -> labels.indexOf(label(e))).toArray();
      // C chosen as the linear probe's is (SetFit's own default, C = 1, underfits on normalised
      // vectors of many classes: 0.78 against 0.84 for the tuned probe on banking77 at 8 per
      // class).
      Baselines.ProbeChoice c =
          Baselines.chooseProbeC(new Baselines.TuningData<>(x, y, null, null), labels.size());
      all.forEach(l -> l.onEvent("setfit", "head: logistic regression, " + c.setting()));
      LogisticRegression head =
          LogisticRegression.fit(SparseMatrix.fromDense(x), y, labels.size(), c.c(), 1e-6, 1000);
      model.setHead(head.asLinear());
      Map<String, Object> extra = new LinkedHashMap<>();
      extra.put("method", "setfit");
      extra.put("setfit_pairs", pairs.size());
      extra.put("setfit_head", "logistic regression, " + c.setting());
      for (String k : List.of("precision", "threads", "best_step", "train_seconds")) {
        if (facts != null && facts.has(k))
          extra.put(k, Json.MAPPER.convertValue(facts.get(k), Object.class));
      }
      model.save(tuned, extra);
    }
    return result;
  }

  private static JsonNode readJson(Path file) {
    try {
      return Json.MAPPER.readTree(file.toFile());
    } catch (IOException e) {
      return null;
    }
  }
}
