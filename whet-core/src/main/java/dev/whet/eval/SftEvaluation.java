package dev.whet.eval;

import dev.whet.infer.LanguageModel;
import dev.whet.io.Atomic;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The end-of-run evaluation of a supervised fine-tuning run, written to the run's eval/ like a
 * classifier's: held-out loss and perplexity, greedy generations on held-out prompts scored with
 * exact match and ROUGE-L against their completions, each for the base model and the fine-tuned
 * one, and the forgetting check (perplexity on general text, before and after).
 */
public final class SftEvaluation {
  private SftEvaluation() {}

  /** A held-out prompt (token ids and text) and the completion its record gives. */
  public record Sample(long[] prompt, String text, String reference) {}

  /** Mean cross-entropy per token of the base model ({@code before}) and the tuned one. */
  public record Losses(double before, double after) {
    double perplexityBefore() {
      return Math.exp(before);
    }

    double perplexityAfter() {
      return Math.exp(after);
    }
  }

  /**
   * Generates, scores and writes eval/eval.json, eval/predictions.jsonl and eval/report.html.
   *
   * @param task the run's task ({@code sft}, {@code dpo})
   * @param heldOutFile the file the held-out examples come from (named in the output)
   * @param heldOut loss on its trained tokens (a preference pair's chosen answer), before and after
   * @param general loss on the bundled general text ({@link #generalTexts()}), before and after
   * @param preference a DPO run's held-out pairs ({@link PreferenceEvaluation}), or null
   * @param baselines the comparison with prompting the base model ({@code systems}, {@code
   *     verdict}, … of {@code GenerativeBaselines}), or null
   * @return the top-level numbers of eval.json
   */
  public static Map<String, Object> run(
      Path runDir,
      String task,
      LanguageModel base,
      LanguageModel tuned,
      String heldOutFile,
      Losses heldOut,
      Losses general,
      Map<String, Object> preference,
      Map<String, Object> baselines,
      List<Sample> samples,
      int maxNewTokens,
      Consumer<String> log) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("run", runDir.toString());
    out.put("task", task);
    Map<String, Object> held = new LinkedHashMap<>();
    held.put("file", heldOutFile);
    held.put("loss_before", heldOut.before());
    held.put("loss_after", heldOut.after());
    held.put("perplexity_before", heldOut.perplexityBefore());
    held.put("perplexity_after", heldOut.perplexityAfter());
    out.put("held_out", held);
    if (preference != null) {
      out.put("preference", preference);
    }
    if (baselines != null) {
      out.putAll(baselines);
    }

    List<Map<String, Object>> predictions = new ArrayList<>();
    double[] em = new double[2];
    double[] rouge = new double[2];
    long t = System.nanoTime();
    if (!samples.isEmpty()) {
      log.accept(
          "generating "
              + samples.size()
              + " held-out completions with the base and the fine-tuned model");
    }
    for (Sample s : samples) {
      String before = base.greedyText(s.prompt(), maxNewTokens);
      String after = tuned.greedyText(s.prompt(), maxNewTokens);
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("prompt", s.text());
      row.put("reference", s.reference());
      row.put("base", before);
      row.put("fine_tuned", after);
      row.put("rouge_l_base", GenerationScores.rougeL(before, s.reference()));
      row.put("rouge_l_fine_tuned", GenerationScores.rougeL(after, s.reference()));
      predictions.add(row);
      em[0] += GenerationScores.exactMatch(before, s.reference());
      em[1] += GenerationScores.exactMatch(after, s.reference());
      rouge[0] += (double) row.get("rouge_l_base");
      rouge[1] += (double) row.get("rouge_l_fine_tuned");
    }
    int n = Math.max(1, samples.size());
    Map<String, Object> gen = new LinkedHashMap<>();
    gen.put("n", samples.size());
    gen.put("max_new_tokens", maxNewTokens);
    gen.put("exact_match_before", samples.isEmpty() ? null : em[0] / n);
    gen.put("exact_match_after", samples.isEmpty() ? null : em[1] / n);
    gen.put("rouge_l_before", samples.isEmpty() ? null : rouge[0] / n);
    gen.put("rouge_l_after", samples.isEmpty() ? null : rouge[1] / n);
    out.put("generation", gen);
    double generateSeconds = (System.nanoTime() - t) / 1e9;

    out.put(
        "forgetting",
        ForgettingCheck.ofPerplexity(
            GENERAL_TASK, general.perplexityBefore(), general.perplexityAfter()));
    out.put("timings", Map.of("generation", generateSeconds));

    Path evalDir = runDir.resolve("eval");
    try {
      Atomic.writeString(
          evalDir.resolve("eval.json"),
          ReportWriter.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(out));
      StringBuilder lines = new StringBuilder();
      for (Map<String, Object> row : predictions) {
        lines.append(ReportWriter.mapper().writeValueAsString(row)).append('\n');
      }
      Atomic.writeString(evalDir.resolve("predictions.jsonl"), lines.toString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    Atomic.writeString(evalDir.resolve("report.html"), html(runDir, out, predictions));
    return out;
  }

  static final String GENERAL_TASK =
      "perplexity on general English sentences (STS-B dev captions, CC-BY-SA; see"
          + " general/NOTICE.md)";

  /**
   * General-domain sentences for the forgetting check: the distinct first sentences of the bundled
   * STS-B pairs (CC-BY-SA, see {@code general/NOTICE.md}).
   */
  public static List<String> generalTexts() {
    List<String> out = new ArrayList<>();
    for (ForgettingCheck.Pair p : ForgettingCheck.readStsb(RunEvaluation.generalData())) {
      if (!out.contains(p.first())) {
        out.add(p.first());
      }
    }
    return out;
  }

  private static String html(Path runDir, Map<String, Object> out, List<Map<String, Object>> rows) {
    StringBuilder b = new StringBuilder();
    b.append("<!doctype html><meta charset=utf-8><title>Whet evaluation: ")
        .append(esc(runDir.getFileName().toString()))
        .append("</title><style>body{font-family:sans-serif;max-width:60em;margin:2em auto}")
        .append("td,th{border-bottom:1px solid #ddd;padding:4px;vertical-align:top;")
        .append("text-align:left}pre{white-space:pre-wrap;margin:0}</style>")
        .append(
            out.containsKey("preference")
                ? "<h1>Preference tuning (DPO): "
                : "<h1>Supervised fine-tuning: ")
        .append(esc(runDir.getFileName().toString()))
        .append("</h1><table><tr><th></th><th>base</th><th>fine-tuned</th></tr>");
    @SuppressWarnings("unchecked")
    Map<String, Object> held = (Map<String, Object>) out.get("held_out");
    @SuppressWarnings("unchecked")
    Map<String, Object> gen = (Map<String, Object>) out.get("generation");
    ForgettingCheck f = (ForgettingCheck) out.get("forgetting");
    @SuppressWarnings("unchecked")
    Map<String, Object> preference = (Map<String, Object>) out.get("preference");
    if (preference != null) {
      row(
          b,
          "prefers the chosen answer",
          preference.get("preference_accuracy_before"),
          preference.get("preference_accuracy_after"));
      row(b, "reward accuracy (against the base)", null, preference.get("reward_accuracy"));
    }
    row(b, "held-out loss", held.get("loss_before"), held.get("loss_after"));
    row(b, "held-out perplexity", held.get("perplexity_before"), held.get("perplexity_after"));
    row(b, "exact match", gen.get("exact_match_before"), gen.get("exact_match_after"));
    row(b, "ROUGE-L", gen.get("rouge_l_before"), gen.get("rouge_l_after"));
    row(b, "general-text perplexity", f.before(), f.after());
    b.append("</table>");
    if (f.flagged()) {
      b.append("<p><b>Forgetting:</b> general-text perplexity rose by more than ")
          .append(Math.round(100 * (Math.exp(f.threshold()) - 1)))
          .append("%.</p>");
    }
    if (out.get("systems") instanceof List<?> systems) {
      baselines(b, systems, out);
    }
    b.append("<h2>Generations</h2><table><tr><th>prompt</th><th>reference</th><th>base</th>")
        .append("<th>fine-tuned</th></tr>");
    for (Map<String, Object> r : rows) {
      b.append("<tr>");
      for (String k : List.of("prompt", "reference", "base", "fine_tuned")) {
        b.append("<td><pre>").append(esc(String.valueOf(r.get(k)))).append("</pre></td>");
      }
      b.append("</tr>");
    }
    return b.append("</table>").toString();
  }

  /**
   * Was fine-tuning worth it: each system's log-likelihood of the reference answers (with its
   * interval and the fine-tune's paired difference), generation scores, prompt length and time; the
   * verdict; the best alternative's generations beside the fine-tune's; the worst examples.
   */
  @SuppressWarnings("unchecked")
  private static void baselines(StringBuilder b, List<?> systems, Map<String, Object> out) {
    b.append("<h2>Fine-tuned vs prompting the base model</h2><p><b>")
        .append(esc(String.valueOf(out.get("verdict"))))
        .append("</b></p><table><tr><th>system</th><th>log-likelihood per answer token</th>")
        .append("<th>fine-tuned minus it</th><th>perplexity</th><th>exact match</th>")
        .append("<th>ROUGE-L</th><th>prompt tokens</th><th>ms per request</th></tr>");
    for (Object o : systems) {
      Map<String, Object> r = (Map<String, Object>) o;
      b.append("<tr><th>").append(esc(String.valueOf(r.get("description")))).append("</th>");
      for (String k :
          List.of(
              "loglik_interval",
              "fine_tuned_minus_this",
              "perplexity",
              "exact_match",
              "rouge_l",
              "prompt_tokens",
              "ms_per_request")) {
        b.append("<td>").append(num(r.get(k))).append("</td>");
      }
      b.append("</tr>");
    }
    b.append("</table><h3>Side by side</h3><table><tr><th>prompt</th><th>reference</th>")
        .append("<th>best alternative</th><th>fine-tuned</th></tr>");
    for (Map<String, Object> e : (List<Map<String, Object>>) out.get("examples")) {
      b.append("<tr>");
      for (String k : List.of("prompt", "reference", "best_baseline_output", "fine_tuned_output")) {
        b.append("<td><pre>")
            .append(esc(String.valueOf(e.getOrDefault(k, "–"))))
            .append("</pre></td>");
      }
      b.append("</tr>");
    }
    b.append("</table><h3>Worst examples for the fine-tune</h3><table><tr><th>prompt</th>")
        .append("<th>reference</th><th>log-likelihood per token</th><th>fine-tuned</th></tr>");
    for (Map<String, Object> e : (List<Map<String, Object>>) out.get("worst")) {
      b.append("<tr><td><pre>")
          .append(esc(String.valueOf(e.get("prompt"))))
          .append("</pre></td><td><pre>")
          .append(esc(String.valueOf(e.get("reference"))))
          .append("</pre></td><td>")
          .append(num(e.get("fine_tuned_loglik")))
          .append("</td><td><pre>")
          .append(esc(String.valueOf(e.getOrDefault("fine_tuned_output", "–"))))
          .append("</pre></td></tr>");
    }
    b.append("</table>");
  }

  private static void row(StringBuilder b, String name, Object before, Object after) {
    b.append("<tr><th>").append(name).append("</th><td>").append(num(before)).append("</td><td>");
    b.append(num(after)).append("</td></tr>");
  }

  private static String num(Object x) {
    if (x instanceof Interval i) {
      return String.format(Locale.ROOT, "%.3f [%.3f, %.3f]", i.estimate(), i.low(), i.high());
    }
    return x instanceof Double d ? String.format(Locale.ROOT, "%.4f", d) : "–";
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
