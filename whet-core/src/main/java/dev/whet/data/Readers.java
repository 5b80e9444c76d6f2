package dev.whet.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.WhetException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The file formats: JSON Lines, CSV/TSV with a header, CoNLL columns. Each turns its file into
 * records of named fields (as JSON objects, so one {@link ExampleParser} checks them all) and
 * reports what it cannot read.
 */
final class Readers {
  static final ObjectMapper JSON =
      JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

  /** Field names Whet understands; CSV headers with these names map to themselves. */
  static final Set<String> FIELDS =
      Set.of(
          "text",
          "text_pair",
          "label",
          "labels",
          "tokens",
          "tags",
          "prompt",
          "completion",
          "instruction",
          "input",
          "output",
          "anchor",
          "positive",
          "negative",
          "sentence1",
          "sentence2",
          "score");

  /** Common header names in real exports, mapped to Whet's fields. */
  private static final Map<String, String> ALIASES =
      Map.ofEntries(
          Map.entry("sentence", "text"),
          Map.entry("utterance", "text"),
          Map.entry("question", "text"),
          Map.entry("query", "text"),
          Map.entry("review", "text"),
          Map.entry("content", "text"),
          Map.entry("document", "text"),
          Map.entry("category", "label"),
          Map.entry("intent", "label"),
          Map.entry("class", "label"),
          Map.entry("target", "label"),
          Map.entry("sentiment", "label"));

  private Readers() {}

  /** A record: its first line, its fields, and whether each token sits on its own line. */
  record Row(int line, ObjectNode fields, boolean linePerToken) {}

  /** Receives records and problems in file order. */
  interface Sink {
    void row(Row row);

    void error(int line, int column, String message);
  }

  /** The format for a file: the option if set, otherwise by extension (JSONL when unknown). */
  static String formatOf(Path file, DataOptions o) {
    if (o.format() != null) {
      String f = o.format().toLowerCase(Locale.ROOT);
      if (!List.of("jsonl", "csv", "tsv", "conll").contains(f)) {
        throw new WhetException(
            "unknown format '" + o.format() + "' — use jsonl, csv, tsv or conll", 2, null);
      }
      return f;
    }
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".csv")) {
      return "csv";
    }
    if (name.endsWith(".tsv") || name.endsWith(".tab")) {
      return "tsv";
    }
    if (name.endsWith(".conll") || name.endsWith(".bio") || name.endsWith(".iob")) {
      return "conll";
    }
    return "jsonl";
  }

  static void read(InputStream in, String format, DataOptions o, Sink sink) throws IOException {
    switch (format) {
      case "jsonl" -> jsonl(in, o, sink);
      case "csv" -> delimited(in, ',', o, sink);
      case "tsv" -> delimited(in, '\t', o, sink);
      case "conll" -> conll(in, o, sink);
      default -> throw new IllegalArgumentException(format);
    }
  }

  private static boolean lineProblem(LineReader.Status s, LineReader r, DataOptions o, Sink sink) {
    switch (s) {
      case BAD_ENCODING -> {
        sink.error(
            r.lineNumber(),
            r.badColumn,
            "invalid "
                + o.encoding().name()
                + " byte sequence — save the file as UTF-8, or pass its real encoding with"
                + " --encoding (e.g. ISO-8859-1)");
        return true;
      }
      case TOO_LONG -> {
        sink.error(
            r.lineNumber(),
            0,
            "line is longer than "
                + o.maxLineBytes()
                + " bytes — shorten or split this record (or raise --max-line-bytes)");
        return true;
      }
      default -> {
        return false;
      }
    }
  }

  static void jsonl(InputStream in, DataOptions o, Sink sink) throws IOException {
    LineReader r = new LineReader(in, o.encoding(), o.maxLineBytes());
    LineReader.Status s;
    boolean first = true;
    while ((s = r.next()) != LineReader.Status.EOF) {
      if (lineProblem(s, r, o, sink)) {
        first = false;
        continue;
      }
      String line = r.text;
      if (line.isBlank()) {
        continue;
      }
      if (first && line.stripLeading().startsWith("[")) {
        // A JSON array file would otherwise produce one confusing error per line.
        sink.error(
            r.lineNumber(),
            1,
            "this is a JSON array, not JSON Lines — write one object per line, e.g."
                + " jq -c '.[]' FILE > FILE.jsonl");
        return;
      }
      first = false;
      JsonNode node;
      try {
        node = JSON.readTree(line);
      } catch (JsonProcessingException e) {
        int col = e.getLocation() == null ? 0 : Math.max(0, e.getLocation().getColumnNr());
        // Jackson's message may end with a source location; the line and column say it better.
        String why =
            e.getOriginalMessage()
                .lines()
                .findFirst()
                .orElse("")
                .replaceAll("\\s*\\(start marker at .*|\\s*at \\[Source.*", "")
                .strip();
        sink.error(
            r.lineNumber(),
            col,
            "invalid JSON ("
                + shorten(why, 120)
                + ") — each line must be one complete JSON object");
        continue;
      }
      if (!(node instanceof ObjectNode obj)) {
        sink.error(
            r.lineNumber(),
            1,
            "expected a JSON object, found "
                + kind(node)
                + " — each line must be an object such as {\"text\": ..., \"label\": ...}");
        continue;
      }
      sink.row(new Row(r.lineNumber(), obj, false));
    }
  }

  /**
   * CSV or TSV with a header row. Quoted fields may span lines; each physical line is decoded on
   * its own so encoding errors keep their line number.
   */
  static void delimited(InputStream in, char delim, DataOptions o, Sink sink) throws IOException {
    LineReader r = new LineReader(in, o.encoding(), o.maxLineBytes());
    String[] names = null;
    List<String> fields = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean inQuotes = false;
    boolean broken = false;
    int start = 0;
    int recordChars = 0;
    LineReader.Status s;
    while ((s = r.next()) != LineReader.Status.EOF) {
      if (lineProblem(s, r, o, sink)) {
        // Drop the record this line belongs to; the next line starts afresh.
        if (names == null) {
          return;
        }
        inQuotes = false;
        broken = false;
        fields.clear();
        field.setLength(0);
        continue;
      }
      String line = r.text;
      if (!inQuotes) {
        start = r.lineNumber();
        recordChars = 0;
        if (line.isEmpty()) {
          continue;
        }
      } else {
        field.append('\n');
      }
      recordChars += line.length();
      if (recordChars > o.maxLineBytes()) {
        broken = true;
      }
      int i = 0;
      while (i < line.length()) {
        char c = line.charAt(i);
        if (inQuotes) {
          if (c == '"') {
            if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
              field.append('"');
              i += 2;
              continue;
            }
            inQuotes = false;
          } else {
            field.append(c);
          }
        } else if (c == delim) {
          fields.add(field.toString());
          field.setLength(0);
        } else if (c == '"' && o.quotes() && field.isEmpty()) {
          inQuotes = true;
        } else {
          // A quote in the middle of an unquoted field is kept as text, as spreadsheets do.
          field.append(c);
        }
        i++;
      }
      if (inQuotes) {
        continue;
      }
      fields.add(field.toString());
      field.setLength(0);
      if (names == null) {
        names = header(fields, start, o, sink);
        fields.clear();
        if (names == null) {
          return;
        }
        continue;
      }
      if (broken) {
        sink.error(
            start,
            0,
            "record is longer than "
                + o.maxLineBytes()
                + " characters — shorten it (or raise --max-line-bytes)");
      } else if (fields.size() != names.length) {
        sink.error(
            start,
            0,
            "expected "
                + names.length
                + " fields (as in the header), found "
                + fields.size()
                + " — quote fields that contain the delimiter"
                + (o.quotes() ? ", or use --no-quotes if quotes are plain text here" : ""));
      } else {
        ObjectNode obj = JsonNodeFactory.instance.objectNode();
        for (int k = 0; k < names.length; k++) {
          obj.put(names[k], fields.get(k));
        }
        sink.row(new Row(start, obj, false));
      }
      fields.clear();
      broken = false;
    }
    if (inQuotes) {
      sink.error(
          start, 0, "quoted field starting on this line is never closed — add the closing \"");
    } else if (names == null) {
      sink.error(0, 0, "the file is empty — a CSV/TSV file needs a header row and records");
    }
  }

  /** Maps header names to Whet's fields; null (after an error) if a named column is missing. */
  private static String[] header(List<String> raw, int line, DataOptions o, Sink sink) {
    String[] names = new String[raw.size()];
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < names.length; i++) {
      names[i] = raw.get(i).strip();
      index.put(names[i], i);
    }
    boolean explicit = o.textColumn() != null || o.labelColumn() != null;
    String[][] wanted = {
      {o.textColumn(), "text", "--text-column"},
      {o.pairColumn(), "text_pair", "--pair-column"},
      {o.labelColumn(), "label", "--label-column"}
    };
    for (String[] w : wanted) {
      if (w[0] == null) {
        continue;
      }
      Integer i = index.get(w[0]);
      if (i == null) {
        sink.error(
            line,
            0,
            "no column '"
                + w[0]
                + "' in the header (columns: "
                + String.join(", ", names)
                + ") — check "
                + w[2]);
        return null;
      }
      names[i] = w[1];
    }
    if (!explicit) {
      Set<String> present = new java.util.HashSet<>();
      for (int i = 0; i < names.length; i++) {
        String lower = names[i].toLowerCase(Locale.ROOT);
        if (FIELDS.contains(lower)) {
          names[i] = lower;
          present.add(lower);
        }
      }
      for (int i = 0; i < names.length; i++) {
        String alias = ALIASES.get(names[i].toLowerCase(Locale.ROOT));
        if (alias != null && !present.contains(alias)) {
          names[i] = alias;
          present.add(alias);
        }
      }
    }
    return names;
  }

  /**
   * CoNLL-style columns: a token and its tag per line (first and last column), a blank line between
   * sentences, {@code -DOCSTART-} lines ignored.
   */
  static void conll(InputStream in, DataOptions o, Sink sink) throws IOException {
    LineReader r = new LineReader(in, o.encoding(), o.maxLineBytes());
    ArrayNode tokens = JsonNodeFactory.instance.arrayNode();
    ArrayNode tags = JsonNodeFactory.instance.arrayNode();
    int start = 0;
    boolean broken = false;
    LineReader.Status s;
    while (true) {
      s = r.next();
      boolean end = s == LineReader.Status.EOF;
      if (!end && lineProblem(s, r, o, sink)) {
        broken = true;
        continue;
      }
      String line = end ? "" : r.text.strip();
      if (line.startsWith("-DOCSTART-")) {
        continue;
      }
      if (line.isEmpty()) {
        if (!tokens.isEmpty() && !broken) {
          ObjectNode obj = JsonNodeFactory.instance.objectNode();
          obj.set("tokens", tokens);
          obj.set("tags", tags);
          sink.row(new Row(start, obj, true));
        }
        tokens = JsonNodeFactory.instance.arrayNode();
        tags = JsonNodeFactory.instance.arrayNode();
        broken = false;
        start = 0;
        if (end) {
          return;
        }
        continue;
      }
      if (start == 0) {
        start = r.lineNumber();
      }
      String[] cols = line.split("\\s+");
      if (cols.length < 2) {
        sink.error(
            r.lineNumber(),
            0,
            "expected a token and a tag separated by a tab, found one column — add the tag"
                + " (O when the token is no entity)");
        broken = true;
        continue;
      }
      tokens.add(cols[0]);
      tags.add(cols[cols.length - 1]);
    }
  }

  static String kind(JsonNode n) {
    if (n == null || n.isMissingNode()) {
      return "nothing";
    }
    return switch (n.getNodeType()) {
      case ARRAY -> "a list";
      case OBJECT -> "an object";
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case NULL -> "null";
      default -> n.getNodeType().name().toLowerCase(Locale.ROOT);
    };
  }

  static String shorten(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 1) + "…";
  }
}
