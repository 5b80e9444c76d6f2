package dev.whet.data;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.WhetException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Streams a dataset file, checks every record and hands each valid {@link Example} to a consumer,
 * so callers decide what to keep: {@link Dataset} keeps them all, {@link DataStats} only counts.
 * Memory does not grow with the file.
 */
public final class Validator {
  private Validator() {}

  /**
   * Validates a file.
   *
   * @throws WhetException with exit code 2 when the file cannot be read at all
   */
  public static ValidationReport validate(Path file, DataOptions options, Consumer<Example> sink) {
    if (!Files.isRegularFile(file)) {
      throw new WhetException(file + ": no such file — check the path", 2, null);
    }
    String format = Readers.formatOf(file, options);
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      return validate(in, file.toString(), format, options, sink);
    } catch (IOException e) {
      throw new WhetException(file + ": cannot read (" + e.getMessage() + ")", 2, e);
    }
  }

  /**
   * The format {@link #validate(Path, DataOptions, Consumer)} reads a file of this name in: {@code
   * csv}, {@code tsv}, {@code conll} by extension, else {@code jsonl}.
   */
  public static String formatOf(String fileName) {
    return Readers.formatOf(Path.of(fileName.replace('\0', '_')), DataOptions.defaults());
  }

  /**
   * Validates a stream (an upload, say) in the given format ({@code jsonl}, {@code csv}, {@code
   * tsv}, {@code conll}); {@code name} is used in messages.
   */
  public static ValidationReport validate(
      InputStream in, String name, String format, DataOptions options, Consumer<Example> sink)
      throws IOException {
    Run run = new Run(name, options, sink);
    Readers.read(in, format, options, run);
    if (run.count == 0 && run.errorTotal == 0) {
      run.error(0, 0, "no examples found — the file is empty");
    }
    return new ValidationReport(name, run.task, run.count, run.records, run.errors, run.errorTotal);
  }

  /** State of one validation pass. */
  private static final class Run implements Readers.Sink {
    final String name;
    final DataOptions options;
    final Consumer<Example> sink;
    final List<DataError> errors = new ArrayList<>();
    Task task;
    ExampleParser parser;
    boolean undetectable;
    int count;
    int records;
    int errorTotal;

    Run(String name, DataOptions options, Consumer<Example> sink) {
      this.name = name;
      this.options = options;
      this.sink = sink;
      this.task = options.task();
      if (task != null) {
        parser = new ExampleParser(task, options.labels());
      }
    }

    @Override
    public void row(Readers.Row row) {
      records++;
      if (undetectable) {
        return;
      }
      if (parser == null) {
        task = ExampleParser.detect(row.fields());
        if (task == null) {
          undetectable = true;
          error(
              row.line(),
              0,
              "cannot tell the task from the fields ("
                  + Readers.shorten(fieldNames(row.fields()), 100)
                  + ") — name them text/label, prompt/completion, messages, … or pass --task");
          return;
        }
        parser = new ExampleParser(task, options.labels());
      }
      Example e = parser.parse(row, this::error);
      if (e != null) {
        count++;
        sink.accept(e);
      }
    }

    @Override
    public void error(int line, int column, String message) {
      errorTotal++;
      if (errors.size() < options.maxErrors()) {
        errors.add(new DataError(name, line, column, message));
      }
    }

    private static String fieldNames(ObjectNode f) {
      List<String> names = new ArrayList<>();
      f.fieldNames().forEachRemaining(names::add);
      return String.join(", ", names);
    }
  }
}
