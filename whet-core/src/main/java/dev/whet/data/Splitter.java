package dev.whet.data;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.WhetException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Splits a dataset into train, validation and (optionally) test files.
 *
 * <ul>
 *   <li>Stratified: for labelled tasks each label is split in the same proportions, so a rare class
 *       is not left out of validation by chance.
 *   <li>Duplicates stay together: examples with the same normalised input go to one side only,
 *       otherwise validation would measure memorisation.
 *   <li>Deterministic: the same file and seed give the same split.
 * </ul>
 *
 * Files are written beside the input as {@code NAME.train.jsonl}, {@code NAME.val.jsonl} and {@code
 * NAME.test.jsonl}, always JSON Lines with Whet's field names, whatever the input format.
 */
public final class Splitter {
  private Splitter() {}

  /**
   * What was written.
   *
   * @param train path and count of the training file
   * @param val the validation file
   * @param test the test file, or {@code null} when no test share was asked for
   */
  public record Result(Part train, Part val, Part test) {}

  /** One written file and how many examples it holds. */
  public record Part(Path file, int count) {}

  /**
   * Loads (and validates) {@code file}, splits it and writes the sibling files.
   *
   * @param valShare share of examples for validation, 0 &lt; val &lt; 1
   * @param testShare share for test, 0 for none
   */
  public static Result split(
      Path file, DataOptions options, double valShare, double testShare, long seed) {
    if (!(valShare > 0) || !(testShare >= 0) || valShare + testShare >= 1) {
      throw new WhetException(
          "--val and --test must be shares between 0 and 1 that leave examples for training"
              + " (got val "
              + valShare
              + ", test "
              + testShare
              + ")",
          2,
          null);
    }
    Dataset data = Dataset.load(file, options);
    int[] side = assign(data.examples(), valShare, testShare, seed);
    int[] counts = new int[3];
    for (int x : side) {
      counts[x]++;
    }
    if (counts[1] == 0 || (testShare > 0 && counts[2] == 0) || counts[0] == 0) {
      throw new WhetException(
          file
              + ": only "
              + data.size()
              + " examples — too few to split with --val "
              + valShare
              + (testShare > 0 ? " --test " + testShare : "")
              + "; raise the shares or add examples",
          1,
          null);
    }
    String name = file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String stem = dot > 0 ? name.substring(0, dot) : name;
    Path dir = file.toAbsolutePath().getParent();
    Part train = write(dir.resolve(stem + ".train.jsonl"), data.task(), data.examples(), side, 0);
    Part val = write(dir.resolve(stem + ".val.jsonl"), data.task(), data.examples(), side, 1);
    Part test =
        testShare > 0
            ? write(dir.resolve(stem + ".test.jsonl"), data.task(), data.examples(), side, 2)
            : null;
    return new Result(train, val, test);
  }

  /**
   * Holds out a share of {@code file} for validation, split as {@link #split} splits (stratified,
   * duplicates together, seeded), into {@code dir}/train.jsonl and {@code dir}/validation.jsonl.
   *
   * @return what was written, or null (nothing written) when the share would leave validation or
   *     training empty
   */
  public static Result holdOut(Path file, DataOptions options, double share, long seed, Path dir) {
    Dataset data = Dataset.load(file, options);
    int[] side = assign(data.examples(), share, 0, seed);
    // A label (or tag) whose every example was held out, a one-example class, could not be
    // learnt: such examples stay in training.
    java.util.Set<String> trained = new java.util.HashSet<>();
    for (int i = 0; i < side.length; i++) {
      if (side[i] == 0) trained.addAll(data.examples().get(i).labels());
    }
    for (int i = 0; i < side.length; i++) {
      if (side[i] == 1 && !trained.containsAll(data.examples().get(i).labels())) side[i] = 0;
    }
    long held = java.util.Arrays.stream(side).filter(x -> x == 1).count();
    if (held == 0 || held == side.length) {
      return null;
    }
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new WhetException(dir + ": cannot create (" + e.getMessage() + ")", 2, e);
    }
    return new Result(
        write(dir.resolve("train.jsonl"), data.task(), data.examples(), side, 0),
        write(dir.resolve("validation.jsonl"), data.task(), data.examples(), side, 1),
        null);
  }

  /**
   * Which side each example goes to: 0 train, 1 validation, 2 test. Groups of duplicates are placed
   * whole; within each label the groups are shuffled with the seed and the first ones fill test,
   * then validation, up to their share of that label.
   */
  public static int[] assign(List<Example> examples, double valShare, double testShare, long seed) {
    // Group by normalised input; a group's stratum is the label of its first example.
    Map<String, List<Integer>> groups = new LinkedHashMap<>();
    for (int i = 0; i < examples.size(); i++) {
      groups
          .computeIfAbsent(DataStats.normalize(examples.get(i).input()), k -> new ArrayList<>())
          .add(i);
    }
    Map<String, List<List<Integer>>> strata = new LinkedHashMap<>();
    for (List<Integer> g : groups.values()) {
      String label = examples.get(g.get(0)).label();
      if (examples.get(g.get(0)) instanceof TokenExample || label == null) {
        label = ""; // tag sequences are all different: one stratum
      }
      strata.computeIfAbsent(label, k -> new ArrayList<>()).add(g);
    }
    List<List<List<Integer>>> groupsByStratum = new ArrayList<>(strata.values());
    int[] sizes = new int[groupsByStratum.size()];
    for (int k = 0; k < sizes.length; k++) {
      for (List<Integer> g : groupsByStratum.get(k)) {
        sizes[k] += g.size();
      }
    }
    Random rng = new Random(seed);
    for (List<List<Integer>> stratum : groupsByStratum) {
      Collections.shuffle(stratum, rng);
    }
    int[] wantTest = apportion(sizes, testShare, rng);
    int[] wantVal = apportion(sizes, valShare, rng);
    int[] side = new int[examples.size()];
    for (int k = 0; k < sizes.length; k++) {
      int test = 0;
      int val = 0;
      for (List<Integer> g : groupsByStratum.get(k)) {
        int s = 0;
        if (test + g.size() <= wantTest[k]) {
          s = 2;
          test += g.size();
        } else if (val + g.size() <= wantVal[k]) {
          s = 1;
          val += g.size();
        }
        for (int i : g) {
          side[i] = s;
        }
      }
    }
    return side;
  }

  /**
   * How many examples of each stratum to take so the total is {@code round(share * all)} and each
   * stratum gets its share rounded up or down (largest remainders win, ties broken at random).
   * Rounding each stratum on its own would give nothing to the many tiny classes of an intent
   * dataset.
   */
  static int[] apportion(int[] sizes, double share, Random rng) {
    int total = 0;
    for (int n : sizes) {
      total += n;
    }
    int[] out = new int[sizes.length];
    int given = 0;
    List<Integer> order = new ArrayList<>();
    for (int k = 0; k < sizes.length; k++) {
      out[k] = (int) Math.floor(sizes[k] * share);
      given += out[k];
      order.add(k);
    }
    Collections.shuffle(order, rng);
    order.sort((a, b) -> Double.compare(sizes[b] * share - out[b], sizes[a] * share - out[a]));
    int left = (int) Math.round(total * share) - given;
    for (int i = 0; i < order.size() && left > 0; i++) {
      out[order.get(i)]++;
      left--;
    }
    return out;
  }

  private static Part write(Path out, Task task, List<Example> examples, int[] side, int which) {
    int count = 0;
    try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      for (int i = 0; i < examples.size(); i++) {
        if (side[i] == which) {
          w.write(Readers.JSON.writeValueAsString(toJson(examples.get(i), task)));
          w.write('\n');
          count++;
        }
      }
    } catch (IOException e) {
      throw new WhetException(out + ": cannot write (" + e.getMessage() + ")", 2, e);
    }
    return new Part(out, count);
  }

  /** An example in Whet's JSONL form, the form {@link Validator} reads back as {@code task}. */
  public static ObjectNode toJson(Example example, Task task) {
    ObjectNode o = Readers.JSON.createObjectNode();
    switch (example) {
      case ClassificationExample c -> {
        o.put("text", c.text());
        if (c.textPair() != null) {
          o.put("text_pair", c.textPair());
        }
        if (task == Task.MULTI_LABEL) {
          c.labels().forEach(o.putArray("labels")::add);
        } else {
          o.put("label", c.labels().get(0));
        }
      }
      case TokenExample t -> {
        t.tokens().forEach(o.putArray("tokens")::add);
        t.tags().forEach(o.putArray("tags")::add);
      }
      case GenerationExample g -> o.put("prompt", g.prompt()).put("completion", g.completion());
      case ChatExample c -> {
        ArrayNode ms = o.putArray("messages");
        for (ChatExample.Message m : c.messages()) {
          ObjectNode j = ms.addObject().put("role", m.role()).put("content", m.content());
          if (m.role().equals("assistant") && m.weight() == 0) {
            j.put("weight", 0);
          }
        }
      }
      case InstructionExample x ->
          o.put("instruction", x.instruction()).put("input", x.input()).put("output", x.output());
      case PreferenceExample x -> {
        if (x.prompt().size() == 1 && x.prompt().get(0).role().equals("user")) {
          o.put("prompt", x.prompt().get(0).content());
          o.put("chosen", x.chosen()).put("rejected", x.rejected());
        } else {
          ArrayNode ms = o.putObject("input").putArray("messages");
          x.prompt().forEach(m -> ms.addObject().put("role", m.role()).put("content", m.content()));
          o.putArray("preferred_output")
              .addObject()
              .put("role", "assistant")
              .put("content", x.chosen());
          o.putArray("non_preferred_output")
              .addObject()
              .put("role", "assistant")
              .put("content", x.rejected());
        }
      }
      case EmbeddingPairExample x -> {
        o.put("anchor", x.anchor()).put("positive", x.positive());
        if (x.negative() != null) {
          o.put("negative", x.negative());
        }
      }
      case SimilarityExample x ->
          o.put("sentence1", x.sentence1()).put("sentence2", x.sentence2()).put("score", x.score());
    }
    return o;
  }
}
