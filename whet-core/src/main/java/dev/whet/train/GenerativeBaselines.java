package dev.whet.train;

import dev.whet.WhetException;
import dev.whet.data.Batching;
import dev.whet.data.Example;
import dev.whet.engine.Tensors;
import dev.whet.eval.Bootstrap;
import dev.whet.eval.Comparison;
import dev.whet.eval.GenerationScores;
import dev.whet.eval.Interval;
import dev.whet.eval.Verdict;
import dev.whet.infer.LanguageModel;
import dev.whet.io.ChatTemplate;
import dev.whet.io.ChatTemplate.Message;
import dev.whet.io.Json;
import dev.whet.io.ModelCatalog;
import dev.whet.model.Encoder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;

/**
 * Was fine-tuning the generator worth it? The fine-tuned model against what people try first with
 * the base model, on the same held-out examples:
 *
 * <ol>
 *   <li>{@code zero_shot}: the question alone (in the chat template, after the system prompt when
 *       one is given: prompt engineering);
 *   <li>{@code few_shot_random}: K training examples, drawn once with the seed, shown first;
 *   <li>{@code few_shot_retrieved}: the K training examples nearest to the question by the built-in
 *       encoder's embeddings (retrieval of examples), the nearest last;
 *   <li>{@code rag}: with documents, the passages nearest to the question placed in the prompt;
 *   <li>{@code fine_tuned}: the fine-tuned model, prompted as it was trained.
 * </ol>
 *
 * Each is scored by the log-likelihood of the reference answer given its prompt (per answer token:
 * what the task asks of the model, at any size), and by exact match and ROUGE-L of greedy
 * generations on the first {@code generate} examples; with its prompt length and time per request,
 * the price of long prompts. The verdict compares the fine-tune with each alternative by the paired
 * bootstrap interval of the log-likelihood, in the classifier verdict's words and rules.
 */
public final class GenerativeBaselines {
  private GenerativeBaselines() {}

  /** The system names, in the contract's spelling. */
  public static final List<String> SYSTEMS =
      List.of("zero_shot", "few_shot_random", "few_shot_retrieved", "rag", "fine_tuned");

  /** Passages placed in a RAG prompt. */
  static final int PASSAGES = 3;

  /**
   * @param systemPrompt the base model's system prompt (prompt engineering), or null
   * @param shots examples shown in the few-shot prompts; 0 leaves those systems out
   * @param documents passages for retrieval-augmented prompts, or null to leave {@code rag} out
   * @param generate held-out examples generated greedily and scored (the first ones)
   * @param maxNewTokens longest generation
   * @param seed draws the random few-shot examples
   */
  public record Options(
      String systemPrompt,
      int shots,
      List<String> documents,
      int generate,
      int maxNewTokens,
      long seed) {}

  /** One system's prompts, scores and generations over the held-out examples. */
  private record Scored(
      String name,
      String description,
      double[] logProb,
      int[] answerTokens,
      int[] promptTokens,
      String[] generations,
      double generationSeconds) {

    double loglik(int[] idx) {
      double sum = 0;
      long tokens = 0;
      for (int i : idx) {
        sum += logProb[i];
        tokens += answerTokens[i];
      }
      return sum / tokens;
    }

    int generated() {
      return generations.length;
    }
  }

  /**
   * Scores every system and returns eval.json's part: {@code systems}, {@code comparisons}, {@code
   * verdict}, {@code headline}, {@code examples} (side by side) and {@code worst}.
   *
   * @param eosId the id ending an answer (scored after it, as training taught)
   * @param train the few-shot pool (the run's training examples)
   */
  public static Map<String, Object> run(
      LanguageModel base,
      LanguageModel tuned,
      long eosId,
      List<Example> train,
      List<Example> heldOut,
      Options o,
      boolean bf16,
      Consumer<String> log) {
    List<SftData.Query> queries = heldOut.stream().map(SftData::query).toList();
    List<SftData.Query> pool = train.stream().map(SftData::query).toList();
    long[][] answers = new long[queries.size()][];
    for (int i = 0; i < answers.length; i++) {
      long[] raw = base.tokenizer().encodeRaw(queries.get(i).answer());
      answers[i] = Arrays.copyOf(raw, raw.length + 1);
      answers[i][raw.length] = eosId;
    }
    int shots = Math.min(o.shots(), pool.size());
    List<List<SftData.Query>> nearest = null;
    List<List<String>> passages = null;
    if ((shots > 0) || o.documents() != null) {
      log.accept(
          "embedding the questions"
              + (shots > 0 ? ", the training examples" : "")
              + (o.documents() != null ? ", the documents" : "")
              + " for retrieval");
      try (Encoder encoder = Encoder.load(ModelCatalog.resolve(ModelCatalog.DEFAULT), 256)) {
        float[][] q = encoder.embed(queries.stream().map(SftData.Query::searchText).toList());
        if (shots > 0) {
          float[][] p = encoder.embed(pool.stream().map(SftData.Query::searchText).toList());
          nearest = new ArrayList<>();
          for (float[] v : q) {
            nearest.add(nearestFirst(v, p, shots).reversed().stream().map(pool::get).toList());
          }
        }
        if (o.documents() != null) {
          float[][] d = encoder.embed(o.documents());
          passages = new ArrayList<>();
          for (float[] v : q) {
            passages.add(nearestFirst(v, d, PASSAGES).stream().map(o.documents()::get).toList());
          }
        }
      }
    }
    List<SftData.Query> random = randomShots(pool, shots, o.seed());
    List<Scored> systems = new ArrayList<>();
    String withSystem = o.systemPrompt() == null ? "" : " with the system prompt";
    systems.add(
        score(
            "zero_shot",
            "Base model, zero-shot" + withSystem,
            base,
            i -> builder(base, o.systemPrompt(), List.of(), List.of(), queries.get(i)),
            answers,
            o,
            bf16,
            log));
    if (shots > 0) {
      systems.add(
          score(
              "few_shot_random",
              "Base model, " + shots + " random examples",
              base,
              i -> builder(base, o.systemPrompt(), random, List.of(), queries.get(i)),
              answers,
              o,
              bf16,
              log));
      List<List<SftData.Query>> near = nearest;
      systems.add(
          score(
              "few_shot_retrieved",
              "Base model, " + shots + " nearest examples",
              base,
              i -> builder(base, o.systemPrompt(), near.get(i), List.of(), queries.get(i)),
              answers,
              o,
              bf16,
              log));
    }
    if (passages != null) {
      List<List<String>> docs = passages;
      systems.add(
          score(
              "rag",
              "Base model with retrieved documents",
              base,
              i -> builder(base, o.systemPrompt(), List.of(), docs.get(i), queries.get(i)),
              answers,
              o,
              bf16,
              log));
    }
    Scored fineTuned =
        score(
            "fine_tuned",
            "Fine-tuned model",
            tuned,
            i -> builder(tuned, null, List.of(), List.of(), queries.get(i)),
            answers,
            o,
            bf16,
            log);
    systems.add(fineTuned);
    return report(systems, fineTuned, queries);
  }

  /**
   * Indices of the {@code k} rows of {@code rows} most similar (cosine) to {@code v}, nearest
   * first.
   */
  static List<Integer> nearestFirst(float[] v, float[][] rows, int k) {
    Integer[] order = new Integer[rows.length];
    double[] sim = new double[rows.length];
    for (int i = 0; i < rows.length; i++) {
      order[i] = i;
      sim[i] = cosine(v, rows[i]);
    }
    Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -sim[i]));
    return List.of(order).subList(0, Math.min(k, rows.length));
  }

  private static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(Math.max(1e-12, na * nb));
  }

  private static List<SftData.Query> randomShots(List<SftData.Query> pool, int k, long seed) {
    List<SftData.Query> shuffled = new ArrayList<>(pool);
    java.util.Collections.shuffle(shuffled, new Random(seed));
    return shuffled.subList(0, k);
  }

  /**
   * The prompt of one question for a model, as a function of how many of its {@code demos}
   * demonstrations are kept, so that they can be dropped (the first, least relevant, first) until
   * it fits the context.
   */
  record PromptFor(int demos, IntFunction<long[]> keeping) {}

  private static PromptFor builder(
      LanguageModel lm,
      String system,
      List<SftData.Query> demos,
      List<String> passages,
      SftData.Query q) {
    return new PromptFor(
        demos.size(),
        keep -> prompt(lm, system, demos.subList(demos.size() - keep, demos.size()), passages, q));
  }

  /** The question after the system prompt, documents and demonstrations, as {@code lm} reads it. */
  static long[] prompt(
      LanguageModel lm,
      String system,
      List<SftData.Query> demos,
      List<String> passages,
      SftData.Query q) {
    String context = null;
    if (!passages.isEmpty()) {
      StringBuilder b = new StringBuilder("Use these documents where they help:");
      for (int i = 0; i < passages.size(); i++) {
        b.append("\n[").append(i + 1).append("] ").append(passages.get(i));
      }
      context = b.toString();
    }
    ChatTemplate template = lm.chatTemplate();
    if (template != null) {
      List<String> systemParts = new ArrayList<>();
      if (system != null) systemParts.add(system);
      q.turns().stream()
          .filter(m -> m.role().equals("system"))
          .forEach(m -> systemParts.add(m.content()));
      if (context != null) systemParts.add(context);
      List<Message> m = new ArrayList<>();
      if (!systemParts.isEmpty()) m.add(new Message("system", String.join("\n\n", systemParts)));
      for (SftData.Query d : demos) {
        d.turns().stream().filter(t -> !t.role().equals("system")).forEach(m::add);
        m.add(new Message("assistant", d.answer()));
      }
      q.turns().stream().filter(t -> !t.role().equals("system")).forEach(m::add);
      return lm.tokenizer().encodeRaw(template.render(m, true));
    }
    if (q.plain() == null) {
      throw new WhetException(
          lm.dir() + ": a conversation of several turns needs a model with a chat template");
    }
    List<String> parts = new ArrayList<>();
    if (system != null) parts.add(system);
    if (context != null) parts.add(context);
    for (SftData.Query d : demos) {
      if (d.plain() != null) parts.add(d.plain() + d.answer());
    }
    parts.add(q.plain());
    return lm.tokenizer().encode(String.join("\n\n", parts));
  }

  /**
   * Scores one system: the log-probability of each reference answer after its prompt (dropping
   * demonstrations, then the prompt's start, where the prompt and answer outgrow the context), and
   * greedy generations of the first examples.
   */
  private static Scored score(
      String name,
      String description,
      LanguageModel lm,
      IntFunction<PromptFor> prompts,
      long[][] answers,
      Options o,
      boolean bf16,
      Consumer<String> log) {
    log.accept("scoring " + description.toLowerCase(java.util.Locale.ROOT));
    int n = answers.length;
    int context = lm.model().maxContext();
    long[][] ids = new long[n][];
    for (int i = 0; i < n; i++) {
      int room = Math.max(8, context - Math.max(answers[i].length, o.maxNewTokens()));
      ids[i] = fit(prompts.apply(i), room);
    }
    double[] logProb = new double[n];
    int[] tokens = new int[n];
    int[] promptTokens = new int[n];
    lm.model().eval();
    try (InferenceMode guard = new InferenceMode()) {
      for (int[] batch : Batching.sequential(n, 4)) {
        List<SftEncoding.Example> seqs = new ArrayList<>();
        for (int i : batch) {
          long[] answer =
              Arrays.copyOf(answers[i], Math.min(answers[i].length, context - ids[i].length));
          long[] all = Arrays.copyOf(ids[i], ids[i].length + answer.length);
          System.arraycopy(answer, 0, all, ids[i].length, answer.length);
          long[] labels = all.clone();
          Arrays.fill(labels, 0, ids[i].length, SftEncoding.IGNORE);
          seqs.add(new SftEncoding.Example(all, labels));
          tokens[i] = answer.length;
          promptTokens[i] = ids[i].length;
        }
        try (PointerScope scope = new PointerScope()) {
          SftEncoding.Batch b = SftEncoding.pad(seqs, 0);
          float[] lp =
              Tensors.toFloats(
                  Trainer.autocast(
                      bf16,
                      () ->
                          DpoLoss.sequenceLogProbs(
                              lm.model()
                                  .forward(Tensors.fromLongs(b.inputIds(), b.rows(), b.width())),
                              Tensors.fromLongs(b.labels(), b.rows(), b.width()))));
          for (int k = 0; k < batch.length; k++) {
            logProb[batch[k]] = lp[k];
          }
        }
      }
    }
    int generate = Math.min(o.generate(), n);
    String[] generations = new String[generate];
    long t0 = System.nanoTime();
    for (int i = 0; i < generate; i++) {
      generations[i] = lm.greedyText(ids[i], o.maxNewTokens());
    }
    return new Scored(
        name,
        description,
        logProb,
        tokens,
        promptTokens,
        generations,
        (System.nanoTime() - t0) / 1e9);
  }

  /**
   * The prompt with as many demonstrations as fit in {@code room} tokens; with none fitting, its
   * last {@code room} tokens.
   */
  static long[] fit(PromptFor prompt, int room) {
    long[] ids = prompt.keeping().apply(prompt.demos());
    for (int keep = prompt.demos() - 1; ids.length > room && keep >= 0; keep--) {
      ids = prompt.keeping().apply(keep);
    }
    return ids.length > room ? Arrays.copyOfRange(ids, ids.length - room, ids.length) : ids;
  }

  private static Map<String, Object> report(
      List<Scored> systems, Scored fineTuned, List<SftData.Query> queries) {
    int n = queries.size();
    Bootstrap bootstrap = new Bootstrap();
    Map<String, Verdict.Score> scores = new LinkedHashMap<>();
    List<Map<String, Object>> rows = new ArrayList<>();
    List<Comparison> comparisons = new ArrayList<>();
    for (Scored s : systems) {
      Interval loglik = bootstrap.interval(n, s::loglik);
      scores.put(s.name(), new Verdict.Score(s.description(), loglik.estimate(), loglik));
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("name", s.name());
      row.put("description", s.description());
      row.put("loglik", loglik.estimate());
      row.put("loglik_interval", loglik);
      row.put("perplexity", Math.exp(-loglik.estimate()));
      int g = s.generated();
      row.put("generated", g);
      row.put(
          "exact_match",
          g == 0
              ? null
              : mean(
                  g,
                  i -> GenerationScores.exactMatch(s.generations()[i], queries.get(i).answer())));
      row.put(
          "rouge_l",
          g == 0
              ? null
              : mean(g, i -> GenerationScores.rougeL(s.generations()[i], queries.get(i).answer())));
      row.put("prompt_tokens", Arrays.stream(s.promptTokens()).average().orElse(0));
      row.put("ms_per_request", g == 0 ? null : 1000 * s.generationSeconds() / g);
      if (s != fineTuned) {
        Interval d = bootstrap.difference(n, fineTuned::loglik, s::loglik);
        comparisons.add(
            new Comparison("fine_tuned", s.name(), "loglik", d, Comparison.Outcome.of(d)));
        row.put("fine_tuned_minus_this", d);
      }
      rows.add(row);
    }
    String words = "log-likelihood of the reference answers";
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("systems", rows);
    out.put("comparisons", comparisons);
    out.put(
        "verdict",
        Verdict.describe(
            "loglik", words, Verdict.Units.NATS, scores.get("fine_tuned"), scores, comparisons));
    out.put("headline", Verdict.headline("loglik", words, "fine_tuned", scores, comparisons));
    // Side by side: the strongest alternative's generations beside the fine-tune's.
    Scored best =
        systems.stream()
            .filter(s -> s != fineTuned)
            .max(Comparator.comparingDouble(s -> scores.get(s.name()).value()))
            .orElse(null);
    List<Map<String, Object>> examples = new ArrayList<>();
    for (int i = 0; i < fineTuned.generated(); i++) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("prompt", queries.get(i).searchText());
      e.put("reference", queries.get(i).answer());
      if (best != null && i < best.generated()) {
        e.put("best_baseline", best.name());
        e.put("best_baseline_output", best.generations()[i]);
      }
      e.put("fine_tuned_output", fineTuned.generations()[i]);
      examples.add(e);
    }
    out.put("examples", examples);
    // The worst: where the fine-tune finds the reference least likely.
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) order[i] = i;
    Arrays.sort(
        order,
        Comparator.comparingDouble(
            (Integer i) -> fineTuned.logProb()[i] / Math.max(1, fineTuned.answerTokens()[i])));
    List<Map<String, Object>> worst = new ArrayList<>();
    for (int k = 0; k < Math.min(5, n); k++) {
      int i = order[k];
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("prompt", queries.get(i).searchText());
      e.put("reference", queries.get(i).answer());
      e.put("fine_tuned_loglik", fineTuned.logProb()[i] / Math.max(1, fineTuned.answerTokens()[i]));
      if (i < fineTuned.generated()) {
        e.put("fine_tuned_output", fineTuned.generations()[i]);
      }
      worst.add(e);
    }
    out.put("worst", worst);
    return out;
  }

  private static double mean(int n, java.util.function.IntToDoubleFunction f) {
    double s = 0;
    for (int i = 0; i < n; i++) s += f.applyAsDouble(i);
    return s / n;
  }

  /**
   * Passages for retrieval-augmented prompts: a JSONL file of {@code {"text": …}} objects (an
   * optional {@code title} is put first), or a text file whose passages are separated by blank
   * lines.
   */
  public static List<String> readDocuments(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw new WhetException(file + ": cannot read the documents (" + e.getMessage() + ")", e);
    }
    List<String> out = new ArrayList<>();
    if (file.getFileName().toString().endsWith(".jsonl")) {
      for (int i = 0; i < lines.size(); i++) {
        if (lines.get(i).isBlank()) continue;
        try {
          var node = Json.MAPPER.readTree(lines.get(i));
          if (!node.path("text").isTextual()) {
            throw new WhetException(
                file + ":" + (i + 1) + ": field 'text': a document needs its text");
          }
          String title = node.path("title").asText("");
          out.add((title.isEmpty() ? "" : title + ": ") + node.get("text").asText());
        } catch (IOException e) {
          throw new WhetException(
              file + ":" + (i + 1) + ": not valid JSON (" + e.getMessage() + ")", e);
        }
      }
    } else {
      StringBuilder b = new StringBuilder();
      for (String line : lines) {
        if (line.isBlank()) {
          if (!b.isEmpty()) out.add(b.toString().strip());
          b.setLength(0);
        } else {
          b.append(line).append('\n');
        }
      }
      if (!b.isEmpty()) out.add(b.toString().strip());
    }
    if (out.isEmpty()) {
      throw new WhetException(file + ": no documents in it");
    }
    return out;
  }
}
