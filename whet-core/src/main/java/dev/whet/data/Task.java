package dev.whet.data;

import dev.whet.WhetException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What a dataset teaches, with the spelling used on the command line ({@code --task}).
 *
 * <table>
 *   <caption>Tasks and their JSONL fields</caption>
 *   <tr><th>CLI</th><th>fields</th></tr>
 *   <tr><td>{@code classify}</td><td>{@code text, label}</td></tr>
 *   <tr><td>{@code multilabel}</td><td>{@code text, labels} (or {@code label} as a list)</td></tr>
 *   <tr><td>{@code pair}</td><td>{@code text, text_pair, label}</td></tr>
 *   <tr><td>{@code tokens}</td><td>{@code tokens, tags} (or a CoNLL column file)</td></tr>
 *   <tr><td>{@code generate}</td><td>{@code prompt, completion}</td></tr>
 *   <tr><td>{@code chat}</td><td>{@code messages: [{role, content[, weight]}]}</td></tr>
 *   <tr><td>{@code instruct}</td><td>{@code instruction[, input], output}</td></tr>
 *   <tr><td>{@code embed}</td><td>{@code anchor, positive[, negative]}</td></tr>
 *   <tr><td>{@code similarity}</td><td>{@code sentence1, sentence2, score}</td></tr>
 *   <tr><td>{@code preference}</td><td>{@code prompt, chosen, rejected}, or OpenAI's {@code input:
 *       {messages}, preferred_output, non_preferred_output}</td></tr>
 * </table>
 */
public enum Task {
  CLASSIFICATION("classify"),
  MULTI_LABEL("multilabel"),
  PAIR_CLASSIFICATION("pair"),
  TOKEN_CLASSIFICATION("tokens"),
  GENERATION("generate"),
  CHAT("chat"),
  INSTRUCTION("instruct"),
  EMBEDDING_PAIRS("embed"),
  SIMILARITY("similarity"),
  PREFERENCE("preference");

  private final String cliName;

  Task(String cliName) {
    this.cliName = cliName;
  }

  /** The lowercase name used by {@code --task} and in JSON output. */
  public String cliName() {
    return cliName;
  }

  /** Whether examples carry discrete labels (so stratification and label counts apply). */
  public boolean hasLabels() {
    return this == CLASSIFICATION
        || this == MULTI_LABEL
        || this == PAIR_CLASSIFICATION
        || this == TOKEN_CLASSIFICATION;
  }

  /**
   * Parses a CLI spelling; also accepts the enum name and a few common synonyms ({@code sft},
   * {@code generation}, {@code ner}, {@code sts}).
   */
  public static Task parse(String s) {
    String k = s.trim().toLowerCase(Locale.ROOT).replace('-', '_');
    for (Task t : values()) {
      if (t.cliName.equals(k) || t.name().toLowerCase(Locale.ROOT).equals(k)) {
        return t;
      }
    }
    Task synonym =
        switch (k) {
          case "classification", "cls", "text_classification" -> CLASSIFICATION;
          case "multi_label", "multi" -> MULTI_LABEL;
          case "pair_classification", "nli", "paraphrase" -> PAIR_CLASSIFICATION;
          case "token_classification", "ner", "tagging" -> TOKEN_CLASSIFICATION;
          case "generation", "sft", "completion" -> GENERATION;
          case "instruction", "alpaca" -> INSTRUCTION;
          case "embedding", "embeddings", "embedding_pairs" -> EMBEDDING_PAIRS;
          case "sts", "score" -> SIMILARITY;
          case "dpo", "preferences", "comparison" -> PREFERENCE;
          default -> null;
        };
    if (synonym == null) {
      throw new WhetException(
          "unknown task '" + s + "' — use one of " + String.join(", ", cliNames()), 2, null);
    }
    return synonym;
  }

  /** What a job on generation, chat or instruction files trains: supervised fine-tuning. */
  public static final String SFT = "sft";

  /** What a job on preference pairs trains: direct preference optimisation of a decoder. */
  public static final String DPO = "dpo";

  /** Whether a sentence-embedding model learns this task (pairs or graded pairs). */
  public boolean embeds() {
    return this == EMBEDDING_PAIRS || this == SIMILARITY;
  }

  /** Whether a classifier learns this task (a label, labels, or a label of a pair). */
  public boolean classifies() {
    return this == CLASSIFICATION || this == MULTI_LABEL || this == PAIR_CLASSIFICATION;
  }

  /**
   * Whether these are examples a decoder learns to generate (prompt/completion, chat, instruction).
   */
  public boolean generates() {
    return this == GENERATION || this == CHAT || this == INSTRUCTION;
  }

  /**
   * The task a fine-tuning job on these examples trains ({@code JobConfig.task}): {@link #SFT} for
   * generation files, {@link #DPO} for preference pairs, else this task's CLI name.
   */
  public String jobTask() {
    return generates() ? SFT : this == PREFERENCE ? DPO : cliName;
  }

  /**
   * The tasks a job can train: the classifier tasks, token classification, sentence embeddings
   * (pairs, graded pairs), {@link #SFT} and {@link #DPO}.
   */
  public static List<String> jobTasks() {
    List<String> out = new java.util.ArrayList<>();
    for (Task t : values()) {
      if (t.classifies()) out.add(t.cliName);
    }
    out.add(TOKEN_CLASSIFICATION.cliName);
    out.add(EMBEDDING_PAIRS.cliName);
    out.add(SIMILARITY.cliName);
    out.add(SFT);
    out.add(DPO);
    return out;
  }

  /** All CLI spellings, in declaration order. */
  public static List<String> cliNames() {
    return Arrays.stream(values()).map(Task::cliName).toList();
  }
}
