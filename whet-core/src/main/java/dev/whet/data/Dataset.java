package dev.whet.data;

import dev.whet.WhetException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/** A validated dataset in memory: the records training reads, its task and its label set. */
public final class Dataset {
  private final Task task;
  private final List<Example> examples;
  private final List<String> labels;

  /** Wraps examples that are already valid; the label set is the declared one or the one seen. */
  public Dataset(Task task, List<? extends Example> examples, List<String> declaredLabels) {
    this.task = Objects.requireNonNull(task);
    this.examples = List.copyOf(examples);
    this.labels = declaredLabels != null ? sorted(declaredLabels) : labelsOf(task, this.examples);
  }

  /**
   * Reads and validates a file.
   *
   * @throws WhetException listing the first errors ({@code file:line[:column]: what — how}) and
   *     their total when the file is invalid (exit code 1), or when it cannot be read (exit code 2)
   */
  public static Dataset load(Path file, DataOptions options) {
    List<Example> examples = new ArrayList<>();
    ValidationReport report = Validator.validate(file, options, examples::add);
    if (!report.valid()) {
      throw new WhetException(
          file
              + " is not a valid dataset ("
              + report.errorTotal()
              + (report.errorTotal() == 1 ? " error" : " errors")
              + "):\n"
              + report.describeErrors(),
          1,
          null);
    }
    return new Dataset(
        report.task(), examples, options.labels() == null ? null : List.copyOf(options.labels()));
  }

  public Task task() {
    return task;
  }

  /** Examples in file order. */
  public List<Example> examples() {
    return examples;
  }

  /**
   * The examples as their record type, e.g. {@code examplesAs(ClassificationExample.class)}.
   *
   * @throws IllegalStateException if the dataset holds another kind of example
   */
  public <T extends Example> List<T> examplesAs(Class<T> type) {
    List<T> out = new ArrayList<>(examples.size());
    for (Example e : examples) {
      if (!type.isInstance(e)) {
        throw new IllegalStateException(
            "a " + task.cliName() + " dataset holds no " + type.getSimpleName());
      }
      out.add(type.cast(e));
    }
    return out;
  }

  /**
   * Sorted label set: the declared one if given, else the labels (or, for token classification, the
   * tags) that occur; empty for tasks without labels.
   */
  public List<String> labels() {
    return labels;
  }

  public int size() {
    return examples.size();
  }

  private static List<String> labelsOf(Task task, List<Example> examples) {
    TreeSet<String> set = new TreeSet<>();
    for (Example e : examples) {
      if (e instanceof ClassificationExample c) {
        set.addAll(c.labels());
      } else if (e instanceof TokenExample t) {
        set.addAll(t.tags());
      }
    }
    return List.copyOf(set);
  }

  private static List<String> sorted(List<String> labels) {
    return List.copyOf(new TreeSet<>(labels));
  }
}
