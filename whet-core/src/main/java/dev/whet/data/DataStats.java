package dev.whet.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.WhetException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code whet data check} reports about a file: counts, labels, duplicates, leakage into the
 * validation set, token lengths, chat turns, and advice with the number behind each point.
 *
 * <p>Computed in one streaming pass: per distinct text it keeps a 64-bit hash (and one of the
 * label), token lengths go into a histogram, so a file of millions of lines is checked in bounded
 * memory without holding its records.
 */
public final class DataStats {
  /** Token lengths above this go into the histogram's last bucket (the maximum is kept exactly). */
  private static final int HISTOGRAM = 1 << 16;

  private static final long CONFLICT = Long.MIN_VALUE + 1;

  private final ValidationReport report;
  private final Map<String, Integer> labelCounts;
  private final int exactDuplicates;
  private final int normalizedDuplicates;
  private final int conflictingDuplicates;
  private final Integer leakage;
  private final Integer valCount;
  private final TokenStats tokens;
  private final Map<String, RoleStats> roles;
  private final PreferenceStats preferences;
  private final List<Advice> advice;

  /**
   * Token lengths under a base model's tokenizer.
   *
   * @param maxLength the model's maximum sequence length
   * @param counted how many examples were tokenized (all, unless a token share was given)
   * @param p50 median length in tokens (special tokens included)
   * @param truncated share of examples longer than {@code maxLength}, 0..1
   */
  public record TokenStats(
      int maxLength,
      long counted,
      int p50,
      int p90,
      int p95,
      int p99,
      int max,
      double mean,
      double truncated) {}

  /**
   * Preference pairs: what a preference-tuned model could learn besides quality.
   *
   * @param pairs preference pairs
   * @param identical pairs whose chosen and rejected answers are the same text (nothing to learn)
   * @param chosenLonger share of the pairs whose chosen answer is the longer one, 0..1
   * @param meanChosenChars mean length of the chosen answers, in characters
   * @param meanRejectedChars mean length of the rejected answers
   */
  public record PreferenceStats(
      long pairs,
      long identical,
      double chosenLonger,
      double meanChosenChars,
      double meanRejectedChars) {}

  /**
   * Chat turns of one role.
   *
   * @param turns number of messages with this role
   * @param tokens their content tokens (0 without a tokenizer)
   */
  public record RoleStats(long turns, long tokens) {}

  /**
   * One piece of advice.
   *
   * @param kind a stable key for scripts ({@code too-few-examples}, {@code leakage}, …)
   * @param message the advice in a sentence, with its number
   */
  public record Advice(String kind, String message) {}

  private DataStats(Builder b, ValidationReport report) {
    this.report = report;
    this.labelCounts = new TreeMap<>(b.labelCounts);
    this.exactDuplicates = b.exactDuplicates;
    this.normalizedDuplicates = b.normalizedDuplicates;
    this.conflictingDuplicates = b.conflicting;
    this.leakage = b.checkedVal ? b.leakage : null;
    this.valCount = b.checkedVal ? b.valCount : null;
    this.tokens = b.tokenizer == null || b.lengthCount == 0 ? null : b.tokenStats();
    this.roles = b.roles.isEmpty() ? null : b.roles;
    this.preferences =
        b.pairs == 0
            ? null
            : new PreferenceStats(
                b.pairs,
                b.identicalPairs,
                (double) b.chosenLonger / b.pairs,
                (double) b.chosenChars / b.pairs,
                (double) b.rejectedChars / b.pairs);
    this.advice = advise();
  }

  /** Validates and describes {@code file} without token statistics or a validation file. */
  public static DataStats compute(Path file, DataOptions options) {
    return compute(file, options, null, 0, null);
  }

  /**
   * Validates and describes {@code file} in one pass.
   *
   * @param tokenizerJson the base model's {@code tokenizer.json}, or {@code null} to skip token
   *     statistics
   * @param maxLength the model's maximum length in tokens (see {@link #maxLengthOf})
   * @param val a validation file to check for overlap (leakage), or {@code null}
   * @throws WhetException if the validation file is invalid (exit code 1) or either file is
   *     unreadable (exit code 2)
   */
  public static DataStats compute(
      Path file, DataOptions options, Path tokenizerJson, int maxLength, Path val) {
    return compute(file, options, tokenizerJson, maxLength, val, 1.0);
  }

  /**
   * As {@link #compute(Path, DataOptions, Path, int, Path)}, tokenizing only a share of the
   * examples for the length statistics. Tokenizing is by far the slowest part of the pass (see
   * docs/benchmarks.md); the sample is chosen by a hash of each input, so it is the same on every
   * run and independent of file order.
   *
   * @param tokenShare share of examples to tokenize, 0 &lt; share &le; 1
   */
  public static DataStats compute(
      Path file,
      DataOptions options,
      Path tokenizerJson,
      int maxLength,
      Path val,
      double tokenShare) {
    if (!(tokenShare > 0 && tokenShare <= 1)) {
      throw new WhetException("the token share must be in (0, 1], got " + tokenShare, 2, null);
    }
    try (TokenCounter counter = tokenizerJson == null ? null : new TokenCounter(tokenizerJson)) {
      Builder b = new Builder(counter, maxLength);
      b.tokenThreshold = (long) Math.ceil(tokenShare * (1L << 32));
      ValidationReport report = Validator.validate(file, options, b::add);
      if (val != null) {
        // Read as the training file's task; the training pass already holds every input's hash.
        DataOptions valOptions = report.task() == null ? options : options.withTask(report.task());
        int[] overlap = {0};
        ValidationReport vr =
            Validator.validate(
                val,
                valOptions,
                e -> {
                  if (b.normalized.containsKey(normalizedHash(e.input()))) {
                    overlap[0]++;
                  }
                });
        if (!vr.valid()) {
          // Overlap against half a file would understate leakage; make the user fix it first.
          throw new WhetException(
              "the validation file "
                  + val
                  + " is not valid ("
                  + vr.errorTotal()
                  + " errors):\n"
                  + vr.describeErrors(),
              1,
              null);
        }
        b.checkedVal = true;
        b.leakage = overlap[0];
        b.valCount = vr.count();
      }
      return new DataStats(b, report);
    }
  }

  public ValidationReport report() {
    return report;
  }

  /** Examples per label (per entity type, counted by B- tags, for token classification). */
  public Map<String, Integer> labelCounts() {
    return labelCounts;
  }

  /** Largest class over smallest class, or NaN with fewer than two labels. */
  public double imbalanceRatio() {
    if (labelCounts.size() < 2) {
      return Double.NaN;
    }
    int max = labelCounts.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    int min = labelCounts.values().stream().mapToInt(Integer::intValue).min().orElse(0);
    return min == 0 ? Double.POSITIVE_INFINITY : (double) max / min;
  }

  /** Examples whose input appeared before, character for character. */
  public int exactDuplicates() {
    return exactDuplicates;
  }

  /** Examples whose input appeared before after lower-casing and dropping punctuation/spaces. */
  public int normalizedDuplicates() {
    return normalizedDuplicates;
  }

  /** Distinct (normalised) inputs that occur with more than one label. */
  public int conflictingDuplicates() {
    return conflictingDuplicates;
  }

  /**
   * Validation examples whose (normalised) input also occurs in the training file; null when no
   * validation file was given.
   */
  public Integer leakage() {
    return leakage;
  }

  /** Token length statistics; null without a tokenizer. */
  public TokenStats tokens() {
    return tokens;
  }

  /** Turns and tokens per chat role; null unless the task is chat. */
  public Map<String, RoleStats> roles() {
    return roles;
  }

  public List<Advice> advice() {
    return advice;
  }

  /**
   * Lower-cases, keeps letters and digits and collapses everything else to single spaces, so "Hi,
   * there!" and "hi there" count as the same text.
   */
  public static String normalize(String s) {
    StringBuilder out = new StringBuilder(s.length());
    boolean space = false;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      if (Character.isLetterOrDigit(cp)) {
        if (space && !out.isEmpty()) {
          out.append(' ');
        }
        space = false;
        out.appendCodePoint(Character.toLowerCase(cp));
      } else {
        space = true;
      }
    }
    return out.toString();
  }

  /**
   * {@code LongMap.hash(normalize(s))} without building the string: the statistics pass calls this
   * for every example, and the allocation-free ASCII path made it several times faster.
   */
  static long normalizedHash(String s) {
    long h = LongMap.FNV_OFFSET;
    boolean space = false;
    boolean any = false;
    for (int i = 0; i < s.length(); ) {
      char ch = s.charAt(i);
      int cp;
      boolean keep;
      if (ch < 0x80) {
        i++;
        keep = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z');
        cp = ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
      } else {
        cp = s.codePointAt(i);
        i += Character.charCount(cp);
        keep = Character.isLetterOrDigit(cp);
        cp = Character.toLowerCase(cp);
      }
      if (!keep) {
        space = true;
        continue;
      }
      if (space && any) {
        h = LongMap.fnv(h, ' ');
      }
      space = false;
      any = true;
      if (Character.isBmpCodePoint(cp)) {
        h = LongMap.fnv(h, (char) cp);
      } else {
        h = LongMap.fnv(h, Character.highSurrogate(cp));
        h = LongMap.fnv(h, Character.lowSurrogate(cp));
      }
    }
    return LongMap.mix(h);
  }

  /** The model's maximum sequence length from its tokenizer.json or config.json; 512 if neither. */
  public static int maxLengthOf(Path modelDir) {
    try {
      Path tok = modelDir.resolve("tokenizer.json");
      if (Files.isRegularFile(tok)) {
        JsonNode n = Readers.JSON.readTree(tok.toFile()).path("truncation").path("max_length");
        if (n.isInt() && n.asInt() > 0) {
          return n.asInt();
        }
      }
      Path config = modelDir.resolve("config.json");
      if (Files.isRegularFile(config)) {
        JsonNode n = Readers.JSON.readTree(config.toFile()).path("max_position_embeddings");
        if (n.isInt() && n.asInt() > 0) {
          return n.asInt();
        }
      }
    } catch (IOException e) {
      throw new WhetException(modelDir + ": cannot read the model's tokenizer or config", e);
    }
    return 512;
  }

  /** Identical pairs teach nothing; a length bias teaches length. */
  private void adviseOnPreferences(List<Advice> out) {
    PreferenceStats p = preferences;
    if (p.identical() > 0) {
      out.add(
          new Advice(
              "identical-pairs",
              String.format(
                  Locale.ROOT,
                  "%,d of %,d pairs have the same chosen and rejected answer: they teach nothing;"
                      + " remove them",
                  p.identical(),
                  p.pairs())));
    }
    if (p.pairs() >= 20 && (p.chosenLonger() >= 0.7 || p.chosenLonger() <= 0.3)) {
      out.add(
          new Advice(
              "length-bias",
              String.format(
                  Locale.ROOT,
                  "the chosen answer is the longer one in %.0f%% of pairs (mean %.0f against %.0f"
                      + " characters): a preference-tuned model may learn to write %s rather than"
                      + " better; balance the pairs or check how they were labelled",
                  100 * p.chosenLonger(),
                  p.meanChosenChars(),
                  p.meanRejectedChars(),
                  p.chosenLonger() >= 0.7 ? "longer" : "shorter")));
    }
  }

  /** The preference pairs' statistics, or null for other tasks. */
  public PreferenceStats preferences() {
    return preferences;
  }

  private List<Advice> advise() {
    List<Advice> out = new ArrayList<>();
    Task task = report.task();
    int n = report.count();
    if (task == null || n == 0) {
      return out;
    }
    if (preferences != null) {
      adviseOnPreferences(out);
    }
    boolean generative = task.generates() || task == Task.PREFERENCE;
    int enough = generative ? 5_000 : 1_000;
    if (n < enough) {
      out.add(
          new Advice(
              "too-few-examples",
              String.format(
                  Locale.ROOT,
                  "only %,d examples: for %s, fine-tuning usually needs %,d or more to beat a"
                      + " baseline reliably; collect more if you can",
                  n,
                  generative
                      ? "open-ended generation (e.g. customer-service replies)"
                      : "classification-style tasks (e.g. sentiment)",
                  enough)));
    }
    if (task.hasLabels() && task != Task.TOKEN_CLASSIFICATION && !labelCounts.isEmpty()) {
      double perClass = (double) n / labelCounts.size();
      if (n < 100 || perClass < 20) {
        // As docs/benchmarks.md measured at 8–64 examples per intent: full fine-tuning scored 4–31
        // points of macro-F1 below SetFit and below a linear probe on the frozen embeddings.
        out.add(
            new Advice(
                "few-shot",
                String.format(
                    Locale.ROOT,
                    "only %.1f examples per class on average: full fine-tuning rarely pays off"
                        + " with this few; %sjudge it against the linear probe on the base model's"
                        + " embeddings (the evaluation runs it), the cheaper model to keep if it"
                        + " is as good",
                    perClass,
                    task == Task.CLASSIFICATION
                        ? "train with --method setfit (contrastive pairs, then a"
                            + " logistic-regression head) and "
                        : "")));
      }
      List<String> small = new ArrayList<>();
      labelCounts.forEach(
          (label, c) -> {
            if (c < 20) {
              small.add(label + " (" + c + ")");
            }
          });
      if (!small.isEmpty()) {
        out.add(
            new Advice(
                "small-classes",
                small.size()
                    + (small.size() == 1 ? " class has" : " classes have")
                    + " fewer than 20 examples: "
                    + Readers.shorten(String.join(", ", small), 200)
                    + "; add examples or merge them"));
      }
      double ratio = imbalanceRatio();
      if (ratio > 10) {
        out.add(
            new Advice(
                "imbalance",
                String.format(
                    Locale.ROOT,
                    "the largest class is %.1fx the smallest: use class weights or collect more of"
                        + " the rare classes, and judge the model by macro-F1, not accuracy",
                    ratio)));
      }
    } else if (generative && n < 200) {
      out.add(
          new Advice(
              "few-shot",
              n
                  + " examples: prompting an existing instruction-tuned model with a few of them is"
                  + " the cheaper first step"));
    }
    if (normalizedDuplicates > 0 && normalizedDuplicates >= 0.01 * n) {
      out.add(
          new Advice(
              "duplicates",
              String.format(
                  Locale.ROOT,
                  "%,d examples (%.1f%%) repeat an earlier input (%,d exactly): remove them, or"
                      + " they weigh more in training and inflate evaluation",
                  normalizedDuplicates,
                  100.0 * normalizedDuplicates / n,
                  exactDuplicates)));
    }
    if (conflictingDuplicates > 0) {
      out.add(
          new Advice(
              "conflicting-labels",
              String.format(
                  Locale.ROOT,
                  "%,d inputs occur with different labels: fix the labels, the model cannot learn"
                      + " both",
                  conflictingDuplicates)));
    }
    if (leakage != null && leakage > 0) {
      out.add(
          new Advice(
              "leakage",
              String.format(
                  Locale.ROOT,
                  "%,d validation examples (%.1f%%) also appear in the training file: remove them"
                      + " from one side or validation scores will be too optimistic",
                  leakage,
                  100.0 * leakage / Math.max(1, valCount))));
    }
    if (tokens != null && task == Task.TOKEN_CLASSIFICATION && tokens.truncated() > 0) {
      // Nothing is cut: taggers read long sentences in overlapping windows.
      out.add(
          new Advice(
              "windows",
              String.format(
                  Locale.ROOT,
                  "%.1f%% of sentences are longer than the model's %d tokens (p95 %d tokens):"
                      + " they are read in overlapping windows, so every word is tagged, but a"
                      + " word near a window's edge sees less context; raise --max-length if the"
                      + " model allows",
                  100 * tokens.truncated(),
                  tokens.maxLength(),
                  tokens.p95())));
    } else if (tokens != null && tokens.truncated() > 0.05) {
      out.add(
          new Advice(
              "truncation",
              String.format(
                  Locale.ROOT,
                  "%.1f%% of examples are longer than the model's %d tokens and will be cut"
                      + " (p95 %d tokens): shorten them or choose a model with a longer context",
                  100 * tokens.truncated(),
                  tokens.maxLength(),
                  tokens.p95())));
    }
    return out;
  }

  /**
   * Everything as a JSON object: {@code valid}, {@code task}, {@code count}, {@code records},
   * {@code errors} (objects with {@code line}, {@code column}, {@code message}), {@code
   * errorTotal}, {@code labels} (label → count, labelled tasks only), duplicates, leakage, tokens,
   * roles and advice.
   */
  public ObjectNode toJson() {
    ObjectNode o = Readers.JSON.createObjectNode();
    o.put("file", report.file());
    o.put("valid", report.valid());
    o.put("task", report.task() == null ? null : report.task().cliName());
    o.put("count", report.count());
    o.put("records", report.records());
    ArrayNode errors = o.putArray("errors");
    for (DataError e : report.errors()) {
      errors
          .addObject()
          .put("line", e.line())
          .put("column", e.column())
          .put("message", e.message());
    }
    o.put("errorTotal", report.errorTotal());
    if (report.task() != null && report.task().hasLabels()) {
      ObjectNode labels = o.putObject("labels");
      labelCounts.forEach(labels::put);
      double r = imbalanceRatio();
      if (Double.isFinite(r)) {
        o.put("imbalanceRatio", Math.round(r * 100) / 100.0);
      }
    }
    ObjectNode d = o.putObject("duplicates");
    d.put("exact", exactDuplicates);
    d.put("normalized", normalizedDuplicates);
    d.put("conflicting", conflictingDuplicates);
    if (leakage != null) {
      o.putObject("leakage").put("valCount", valCount).put("overlap", leakage);
    }
    if (tokens != null) {
      o.set("tokens", Readers.JSON.valueToTree(tokens));
    }
    if (roles != null) {
      o.set("roles", Readers.JSON.valueToTree(roles));
    }
    if (preferences != null) {
      o.set("preferences", Readers.JSON.valueToTree(preferences));
    }
    o.set("advice", Readers.JSON.valueToTree(advice));
    return o;
  }

  /** Accumulates one pass. */
  private static final class Builder {
    final TokenCounter tokenizer;
    final int maxLength;
    final int specials;
    final Map<String, Integer> labelCounts = new LinkedHashMap<>();
    final Map<String, RoleStats> roles = new LinkedHashMap<>();
    long pairs;
    long identicalPairs;
    long chosenLonger;
    long chosenChars;
    long rejectedChars;
    final LongMap exact = new LongMap();
    final LongMap normalized = new LongMap();
    final int[] histogram = new int[HISTOGRAM];
    boolean checkedVal;
    long tokenThreshold = 1L << 32;
    int valCount;
    int exactDuplicates;
    int normalizedDuplicates;
    int conflicting;
    int leakage;
    long lengthCount;
    long lengthSum;
    int lengthMax;
    long truncated;

    Builder(TokenCounter tokenizer, int maxLength) {
      this.tokenizer = tokenizer;
      this.maxLength = maxLength;
      this.specials = tokenizer == null ? 0 : tokenizer.count("");
    }

    void add(Example e) {
      String input = e.input();
      long exactKey = LongMap.hash(input);
      long normKey = normalizedHash(input);
      if (exact.containsKey(exactKey)) {
        exactDuplicates++;
      } else {
        exact.put(exactKey, 1);
      }
      String label = e.label();
      long labelKey = label == null ? 0 : LongMap.hash(label);
      long seen = normalized.get(normKey);
      if (seen == LongMap.ABSENT) {
        normalized.put(normKey, labelKey);
      } else {
        normalizedDuplicates++;
        if (label != null && seen != labelKey && seen != CONFLICT) {
          conflicting++;
          normalized.put(normKey, CONFLICT);
        }
      }
      countLabels(e);
      if (e instanceof PreferenceExample p) {
        pairs++;
        identicalPairs += p.chosen().strip().equals(p.rejected().strip()) ? 1 : 0;
        chosenLonger += p.chosen().length() > p.rejected().length() ? 1 : 0;
        chosenChars += p.chosen().length();
        rejectedChars += p.rejected().length();
      }
      if (e instanceof ChatExample c) {
        for (ChatExample.Message m : c.messages()) {
          long t = tokenizer == null ? 0 : tokenizer.count(m.content()) - specials;
          roles.merge(
              m.role(),
              new RoleStats(1, t),
              (a, b) -> new RoleStats(a.turns() + b.turns(), a.tokens() + b.tokens()));
        }
      }
      if (tokenizer != null && (normKey >>> 32) < tokenThreshold) {
        int len = length(e);
        histogram[Math.min(len, HISTOGRAM - 1)]++;
        lengthCount++;
        lengthSum += len;
        lengthMax = Math.max(lengthMax, len);
        if (len > maxLength) {
          truncated++;
        }
      }
    }

    private void countLabels(Example e) {
      if (e instanceof ClassificationExample c) {
        for (String l : c.labels()) {
          labelCounts.merge(l, 1, Integer::sum);
        }
      } else if (e instanceof TokenExample t) {
        for (String tag : t.tags()) {
          if (tag.startsWith("B-")) {
            labelCounts.merge(tag.substring(2), 1, Integer::sum);
          }
        }
      }
    }

    /** Tokens the model reads for this example, before truncation. */
    private int length(Example e) {
      List<String> texts = e.texts();
      return switch (e) {
        // Each text is encoded on its own; the longest decides truncation.
        case EmbeddingPairExample x -> maxLength(texts);
        case SimilarityExample x -> maxLength(texts);
        // The prompt with each answer is one sequence; the longer one decides.
        case PreferenceExample x -> {
          List<String> prompt = texts.subList(0, x.prompt().size());
          List<String> chosen = new java.util.ArrayList<>(prompt);
          chosen.add(x.chosen());
          List<String> rejected = new java.util.ArrayList<>(prompt);
          rejected.add(x.rejected());
          yield Math.max(joined(chosen), joined(rejected));
        }
        // A pair is one sequence with one more separator.
        case ClassificationExample c when c.textPair() != null -> joined(texts) + 1;
        default -> joined(texts);
      };
    }

    private int maxLength(List<String> texts) {
      int m = 0;
      for (String t : texts) {
        m = Math.max(m, tokenizer.count(t));
      }
      return m;
    }

    private int joined(List<String> texts) {
      int n = specials;
      for (String t : texts) {
        n += tokenizer.count(t) - specials;
      }
      return n;
    }

    TokenStats tokenStats() {
      return new TokenStats(
          maxLength,
          lengthCount,
          percentile(0.50),
          percentile(0.90),
          percentile(0.95),
          percentile(0.99),
          lengthMax,
          Math.round(10.0 * lengthSum / lengthCount) / 10.0,
          Math.round(10000.0 * truncated / lengthCount) / 10000.0);
    }

    private int percentile(double q) {
      long rank = (long) Math.ceil(q * lengthCount);
      long seen = 0;
      for (int i = 0; i < histogram.length; i++) {
        seen += histogram[i];
        if (seen >= Math.max(1, rank)) {
          return i == HISTOGRAM - 1 ? lengthMax : i;
        }
      }
      return lengthMax;
    }
  }
}
