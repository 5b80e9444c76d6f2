package dev.whet.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What the model still gets wrong, and what to do about it.
 *
 * @param confusedPairs most frequent (gold, predicted) mistakes, most frequent first
 * @param confidentMistakes wrong predictions with the highest confidence, highest first
 * @param worstClasses per-class scores sorted by F1, worst first
 * @param conflicts training texts that are (nearly) the same but labelled differently
 * @param conflictSearchTruncated true when the near-duplicate search hit its comparison budget
 * @param suggestions plain-language next steps
 */
public record ErrorAnalysis(
    List<ConfusedPair> confusedPairs,
    List<Mistake> confidentMistakes,
    List<Metrics.ClassScores> worstClasses,
    List<Conflict> conflicts,
    boolean conflictSearchTruncated,
    List<String> suggestions) {

  /** How many items each list keeps by default. */
  public static final int DEFAULT_TOP = 10;

  /** Token Jaccard similarity at or above which two training texts count as near-duplicates. */
  public static final double NEAR_DUPLICATE_JACCARD = 0.8;

  /** Upper bound on candidate pairs compared in the near-duplicate search. */
  public static final long MAX_COMPARISONS = 5_000_000;

  /** A gold label confused for a predicted one {@code count} times. */
  public record ConfusedPair(String gold, String predicted, int count) {}

  /** One wrong prediction with its text. */
  public record Mistake(int index, String text, String gold, String predicted, double confidence) {}

  /** Two training examples with (nearly) the same text and different labels. */
  public record Conflict(
      int first,
      String firstText,
      String firstLabel,
      int second,
      String secondText,
      String secondLabel,
      double similarity) {}

  /**
   * Runs the whole analysis.
   *
   * @param metrics the evaluated system's metrics on the test set
   * @param gold gold labels of the test set
   * @param pred predictions on the test set
   * @param probs probabilities on the test set, or null (then mistakes are not ranked)
   * @param testTexts text of each test example
   * @param trainTexts training texts, for near-duplicate conflicts and class counts
   * @param trainLabels training labels
   * @param labels class names
   */
  public static ErrorAnalysis analyse(
      Metrics.Classification metrics,
      int[] gold,
      int[] pred,
      double[][] probs,
      List<String> testTexts,
      List<String> trainTexts,
      int[] trainLabels,
      List<String> labels) {
    List<ConfusedPair> pairs = confusedPairs(metrics.confusion(), labels, DEFAULT_TOP);
    List<Mistake> mistakes =
        probs == null
            ? List.of()
            : confidentMistakes(gold, pred, probs, testTexts, labels, DEFAULT_TOP);
    List<Metrics.ClassScores> worst = worstFirst(metrics.perClass());
    ConflictSearch search = conflicts(trainTexts, trainLabels, labels, MAX_COMPARISONS);
    int[] trainCounts = new int[labels.size()];
    for (int y : trainLabels) trainCounts[y]++;
    List<String> suggestions =
        suggestions(metrics, trainCounts, pairs, search.conflicts().size(), labels);
    return new ErrorAnalysis(
        pairs, mistakes, worst, search.conflicts(), search.truncated(), suggestions);
  }

  /** Off-diagonal cells of the confusion matrix, largest first (ties by gold, then predicted). */
  public static List<ConfusedPair> confusedPairs(int[][] cm, List<String> labels, int top) {
    List<int[]> cells = new ArrayList<>();
    for (int g = 0; g < cm.length; g++) {
      for (int p = 0; p < cm.length; p++) if (g != p && cm[g][p] > 0) cells.add(new int[] {g, p});
    }
    cells.sort(Comparator.comparingInt((int[] c) -> -cm[c[0]][c[1]]));
    List<ConfusedPair> out = new ArrayList<>();
    for (int[] c : cells.subList(0, Math.min(top, cells.size()))) {
      out.add(new ConfusedPair(labels.get(c[0]), labels.get(c[1]), cm[c[0]][c[1]]));
    }
    return out;
  }

  /** Wrong predictions ranked by the probability the model gave its (wrong) answer. */
  public static List<Mistake> confidentMistakes(
      int[] gold, int[] pred, double[][] probs, List<String> texts, List<String> labels, int top) {
    List<Mistake> all = new ArrayList<>();
    for (int i = 0; i < gold.length; i++) {
      if (gold[i] == pred[i]) continue;
      all.add(
          new Mistake(
              i, texts.get(i), labels.get(gold[i]), labels.get(pred[i]), probs[i][pred[i]]));
    }
    all.sort(Comparator.comparingDouble(Mistake::confidence).reversed());
    return List.copyOf(all.subList(0, Math.min(top, all.size())));
  }

  /** Per-class scores sorted by F1, worst first; larger support first among equal F1. */
  public static List<Metrics.ClassScores> worstFirst(List<Metrics.ClassScores> perClass) {
    List<Metrics.ClassScores> out = new ArrayList<>(perClass);
    out.sort(
        Comparator.comparingDouble(Metrics.ClassScores::f1)
            .thenComparing(Comparator.comparingInt(Metrics.ClassScores::support).reversed()));
    return out;
  }

  /** Result of the near-duplicate search. */
  public record ConflictSearch(List<Conflict> conflicts, boolean truncated) {}

  /**
   * Training texts whose normalised token sets have Jaccard similarity of at least {@link
   * #NEAR_DUPLICATE_JACCARD} but whose labels differ (identical normalised texts have similarity
   * 1). Normalisation lower-cases and keeps runs of letters and digits as tokens.
   *
   * <p>Cost is bounded without comparing all pairs: with tokens ordered rarest first, two sets with
   * Jaccard >= t must share a token among the first {@code |x| - ceil(t |x|) + 1} of each (prefix
   * filtering), so only texts sharing such a rare token are compared, and at most {@code
   * maxComparisons} pairs are (then {@code truncated} is set).
   */
  public static ConflictSearch conflicts(
      List<String> texts, int[] labels, List<String> labelNames, long maxComparisons) {
    double t = NEAR_DUPLICATE_JACCARD;
    int n = texts.size();
    List<Set<String>> sets = new ArrayList<>(n);
    Map<String, Integer> df = new HashMap<>();
    for (String text : texts) {
      Set<String> tokens = tokens(text);
      sets.add(tokens);
      for (String tok : tokens) df.merge(tok, 1, Integer::sum);
    }
    Comparator<String> rareFirst =
        Comparator.<String>comparingInt(df::get).thenComparing(Comparator.naturalOrder());
    Map<String, List<Integer>> index = new HashMap<>();
    List<Conflict> out = new ArrayList<>();
    int[] comparedWith = new int[n]; // comparedWith[j] == i + 1: pair (j, i) already compared
    long comparisons = 0;
    boolean truncated = false;
    outer:
    for (int i = 0; i < n; i++) {
      Set<String> x = sets.get(i);
      if (x.isEmpty()) continue;
      String[] sorted = x.toArray(new String[0]);
      Arrays.sort(sorted, rareFirst);
      int prefix = sorted.length - (int) Math.ceil(t * sorted.length) + 1;
      for (int p = 0; p < prefix; p++) {
        List<Integer> bucket = index.computeIfAbsent(sorted[p], k -> new ArrayList<>());
        for (int j : bucket) {
          if (labels[j] == labels[i] || comparedWith[j] == i + 1) continue;
          comparedWith[j] = i + 1;
          if (++comparisons > maxComparisons) {
            truncated = true;
            break outer;
          }
          double sim = jaccard(x, sets.get(j));
          if (sim >= t) {
            out.add(
                new Conflict(
                    j,
                    texts.get(j),
                    labelNames.get(labels[j]),
                    i,
                    texts.get(i),
                    labelNames.get(labels[i]),
                    sim));
          }
        }
        bucket.add(i);
      }
    }
    out.sort(Comparator.comparingDouble(Conflict::similarity).reversed());
    return new ConflictSearch(out, truncated);
  }

  /**
   * Next steps from the numbers. For each class whose F1 is below the macro average, suggests
   * roughly doubling its training examples (at least 20 more, and at least up to the median class
   * size): halving error commonly needs several times more data, so doubling is the honest smallest
   * step worth trying. Also points at label conflicts and at the most confused pair.
   */
  public static List<String> suggestions(
      Metrics.Classification metrics,
      int[] trainCounts,
      List<ConfusedPair> pairs,
      int conflicts,
      List<String> labels) {
    List<String> out = new ArrayList<>();
    int[] sortedCounts = trainCounts.clone();
    Arrays.sort(sortedCounts);
    int median = sortedCounts.length == 0 ? 0 : sortedCounts[sortedCounts.length / 2];
    double macroF1 = metrics.macro().f1();
    Map<String, Integer> classIndex = new HashMap<>();
    for (int c = 0; c < labels.size(); c++) classIndex.put(labels.get(c), c);
    for (Metrics.ClassScores s : worstFirst(metrics.perClass())) {
      if (s.f1() >= macroF1 || s.support() == 0) continue;
      int have = trainCounts[classIndex.get(s.label())];
      int more = Math.max(Math.max(20, have), median - have);
      String confusedWith =
          pairs.stream()
              .filter(p -> p.gold().equals(s.label()))
              .map(p -> "; it is most often mistaken for \"" + p.predicted() + "\"")
              .findFirst()
              .orElse("");
      out.add(
          String.format(
              Locale.ROOT,
              "Class \"%s\" has F1 %.2f (below the average %.2f) from %d training examples: add"
                  + " roughly %d more labelled examples%s.",
              s.label(),
              s.f1(),
              macroF1,
              have,
              more,
              confusedWith));
      if (out.size() >= 5) break;
    }
    if (conflicts > 0) {
      out.add(
          conflicts
              + " pairs of near-identical training texts carry different labels: review them;"
              + " they are either mislabelled or the classes overlap and need a clearer"
              + " definition.");
    }
    if (!pairs.isEmpty() && pairs.get(0).count() > 1) {
      ConfusedPair top = pairs.get(0);
      out.add(
          String.format(
              Locale.ROOT,
              "The most frequent mistake is \"%s\" predicted as \"%s\" (%d times): add examples"
                  + " that show the difference between the two.",
              top.gold(),
              top.predicted(),
              top.count()));
    }
    if (out.isEmpty()) out.add("No class stands out: errors are spread evenly across classes.");
    return out;
  }

  static Set<String> tokens(String text) {
    Set<String> out = new LinkedHashSet<>();
    for (String tok : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
      if (!tok.isEmpty()) out.add(tok);
    }
    return out;
  }

  private static double jaccard(Set<String> a, Set<String> b) {
    Set<String> small = a.size() <= b.size() ? a : b;
    Set<String> large = small == a ? b : a;
    int common = 0;
    for (String tok : small) if (large.contains(tok)) common++;
    return (double) common / (a.size() + b.size() - common);
  }
}
