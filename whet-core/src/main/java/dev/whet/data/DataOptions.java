package dev.whet.data;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * How to read a dataset file. Start from {@link #defaults()} and change what you need with the
 * {@code with...} methods.
 *
 * @param task the task, or {@code null} to detect it from the first record's fields
 * @param format {@code jsonl}, {@code csv}, {@code tsv} or {@code conll}; {@code null} to choose by
 *     file extension
 * @param encoding character set of the file (JSONL is always read as UTF-8 unless this is set)
 * @param textColumn CSV/TSV column holding the text, {@code null} to map by header name
 * @param pairColumn CSV/TSV column holding the second text of a pair
 * @param labelColumn CSV/TSV column holding the label
 * @param quotes whether CSV/TSV fields may be quoted; some TSV exports (MRPC, STS-B) contain raw
 *     quote characters and must be split on the delimiter only
 * @param labels the declared label set; labels outside it are errors. {@code null}: any label
 * @param maxLineBytes longest line (or CSV record) accepted; longer ones are reported and skipped
 *     so one runaway line cannot exhaust memory
 * @param maxErrors how many errors to list before only counting them
 */
public record DataOptions(
    Task task,
    String format,
    Charset encoding,
    String textColumn,
    String pairColumn,
    String labelColumn,
    boolean quotes,
    Set<String> labels,
    int maxLineBytes,
    int maxErrors) {

  /** Default longest line: 1 MiB, far beyond any sensible training example. */
  public static final int DEFAULT_MAX_LINE_BYTES = 1 << 20;

  /** Auto-detected task and format, UTF-8, quoting on, any labels, 1 MiB lines, 20 errors. */
  public static DataOptions defaults() {
    return new DataOptions(
        null,
        null,
        StandardCharsets.UTF_8,
        null,
        null,
        null,
        true,
        null,
        DEFAULT_MAX_LINE_BYTES,
        20);
  }

  public DataOptions withTask(Task t) {
    return new DataOptions(
        t,
        format,
        encoding,
        textColumn,
        pairColumn,
        labelColumn,
        quotes,
        labels,
        maxLineBytes,
        maxErrors);
  }

  public DataOptions withFormat(String f) {
    return new DataOptions(
        task,
        f,
        encoding,
        textColumn,
        pairColumn,
        labelColumn,
        quotes,
        labels,
        maxLineBytes,
        maxErrors);
  }

  public DataOptions withEncoding(Charset e) {
    return new DataOptions(
        task,
        format,
        e,
        textColumn,
        pairColumn,
        labelColumn,
        quotes,
        labels,
        maxLineBytes,
        maxErrors);
  }

  public DataOptions withColumns(String text, String pair, String label) {
    return new DataOptions(
        task, format, encoding, text, pair, label, quotes, labels, maxLineBytes, maxErrors);
  }

  public DataOptions withQuotes(boolean q) {
    return new DataOptions(
        task,
        format,
        encoding,
        textColumn,
        pairColumn,
        labelColumn,
        q,
        labels,
        maxLineBytes,
        maxErrors);
  }

  public DataOptions withLabels(Set<String> declared) {
    return new DataOptions(
        task,
        format,
        encoding,
        textColumn,
        pairColumn,
        labelColumn,
        quotes,
        declared == null ? null : Set.copyOf(declared),
        maxLineBytes,
        maxErrors);
  }

  public DataOptions withMaxLineBytes(int n) {
    return new DataOptions(
        task, format, encoding, textColumn, pairColumn, labelColumn, quotes, labels, n, maxErrors);
  }

  public DataOptions withMaxErrors(int n) {
    return new DataOptions(
        task,
        format,
        encoding,
        textColumn,
        pairColumn,
        labelColumn,
        quotes,
        labels,
        maxLineBytes,
        n);
  }
}
