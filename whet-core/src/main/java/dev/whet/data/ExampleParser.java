package dev.whet.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Turns a record's fields into a typed {@link Example}, or reports why it cannot. Unknown fields
 * are ignored (exports carry ids and metadata); missing, mistyped or empty ones are errors.
 */
final class ExampleParser {
  /** Receives each problem with its line (and column when known). */
  interface Errors {
    void error(int line, int column, String message);
  }

  private final Task task;
  private final Set<String> declared;

  ExampleParser(Task task, Set<String> declared) {
    this.task = task;
    this.declared = declared;
  }

  /** The task these fields look like, or {@code null} when they fit none. */
  static Task detect(ObjectNode f) {
    if ((f.has("chosen") && f.has("rejected"))
        || (f.has("preferred_output") && f.has("non_preferred_output"))) {
      return Task.PREFERENCE;
    }
    if (f.has("messages")) {
      return Task.CHAT;
    }
    if (f.has("tokens") && f.has("tags")) {
      return Task.TOKEN_CLASSIFICATION;
    }
    if (f.has("instruction") && f.has("output")) {
      return Task.INSTRUCTION;
    }
    if (f.has("prompt") && f.has("completion")) {
      return Task.GENERATION;
    }
    if (f.has("anchor") && f.has("positive")) {
      return Task.EMBEDDING_PAIRS;
    }
    if (f.has("sentence1") && f.has("sentence2") && f.has("score")) {
      return Task.SIMILARITY;
    }
    if ((f.has("text_pair") || f.has("sentence2")) && f.has("label")) {
      return Task.PAIR_CLASSIFICATION;
    }
    if (f.has("text") && (f.has("labels") || (f.has("label") && f.get("label").isArray()))) {
      return Task.MULTI_LABEL;
    }
    if (f.has("text") && f.has("label")) {
      return Task.CLASSIFICATION;
    }
    return null;
  }

  /** The example, or {@code null} after reporting each problem found. */
  Example parse(Readers.Row row, Errors errors) {
    Check c = new Check(row, errors, task);
    Example e =
        switch (task) {
          case CLASSIFICATION, MULTI_LABEL, PAIR_CLASSIFICATION -> classification(c);
          case TOKEN_CLASSIFICATION -> tokens(c);
          case GENERATION -> {
            String p = c.string("prompt", true);
            String comp = c.text("completion");
            yield c.ok ? new GenerationExample(p, comp, row.line()) : null;
          }
          case CHAT -> chat(c);
          case INSTRUCTION -> {
            String ins = c.text("instruction");
            String in = c.f.has("input") ? c.string("input", true) : "";
            String out = c.text("output");
            yield c.ok ? new InstructionExample(ins, in, out, row.line()) : null;
          }
          case EMBEDDING_PAIRS -> {
            String a = c.text("anchor");
            String p = c.text("positive");
            String n = c.present("negative") ? c.text("negative") : null;
            yield c.ok ? new EmbeddingPairExample(a, p, n, row.line()) : null;
          }
          case SIMILARITY -> {
            String a = c.text("sentence1");
            String b = c.text("sentence2");
            double s = c.number("score");
            yield c.ok ? new SimilarityExample(a, b, s, row.line()) : null;
          }
          case PREFERENCE -> preference(c);
        };
    return c.ok ? e : null;
  }

  private Example classification(Check c) {
    boolean pair = task == Task.PAIR_CLASSIFICATION;
    // GLUE-style files name the pair sentence1/sentence2.
    String first = pair && !c.f.has("text") && c.f.has("sentence1") ? "sentence1" : "text";
    String second = c.f.has("text_pair") || !c.f.has("sentence2") ? "text_pair" : "sentence2";
    String text = c.text(first);
    String textPair = pair ? c.text(second) : null;
    List<String> labels = new ArrayList<>();
    if (task == Task.MULTI_LABEL) {
      String name = c.f.has("labels") ? "labels" : "label";
      JsonNode l = c.f.get(name);
      if (l == null || l.isNull()) {
        c.fail("missing field \"labels\" — give the labels as a list, e.g. \"labels\": [\"a\"]");
      } else if (!l.isArray()) {
        c.fail(
            "field \""
                + name
                + "\" must be a list of labels, found "
                + Readers.kind(l)
                + " — write [\"label\"], or use --task classify for one label each");
      } else {
        for (int i = 0; i < l.size(); i++) {
          String one = label(c, l.get(i), name + "[" + i + "]");
          if (one != null) {
            labels.add(one);
          }
        }
      }
    } else {
      JsonNode l = c.f.get("label");
      if (l == null || l.isNull()) {
        c.fail("missing field \"label\" — every " + task.cliName() + " record needs a label");
      } else if (l.isArray()) {
        c.fail(
            "field \"label\" is a list — use --task multilabel when examples have several"
                + " labels");
      } else {
        String one = label(c, l, "label");
        if (one != null) {
          labels.add(one);
        }
      }
    }
    return c.ok ? new ClassificationExample(text, textPair, labels, c.row.line()) : null;
  }

  private String label(Check c, JsonNode l, String name) {
    String value;
    if (l.isTextual()) {
      value = l.textValue().strip();
    } else if (l.isIntegralNumber()) {
      value = l.asText();
    } else {
      c.fail(
          "field \""
              + name
              + "\" must be a string or an integer, found "
              + Readers.kind(l)
              + " — write the label as text, e.g. \"positive\"");
      return null;
    }
    if (value.isEmpty()) {
      c.fail("field \"" + name + "\" is empty — give every example a label");
      return null;
    }
    if (declared != null && !declared.contains(value)) {
      c.fail(
          "label \""
              + value
              + "\" is not in the declared label set ("
              + Readers.shorten(String.join(", ", new java.util.TreeSet<>(declared)), 200)
              + ") — fix the label, or add it to --labels");
      return null;
    }
    return value;
  }

  private Example tokens(Check c) {
    List<String> tokens = c.strings("tokens");
    List<String> tags = c.strings("tags");
    if (!c.ok) {
      return null;
    }
    if (tokens.isEmpty()) {
      c.fail("field \"tokens\" is empty — a sentence needs at least one token");
      return null;
    }
    if (tokens.size() != tags.size()) {
      c.fail(
          "\"tokens\" has "
              + tokens.size()
              + " items but \"tags\" has "
              + tags.size()
              + " — give exactly one tag per token");
      return null;
    }
    String prev = "O";
    for (int i = 0; i < tags.size(); i++) {
      String tag = tags.get(i);
      int line = c.row.linePerToken() ? c.row.line() + i : c.row.line();
      String where = c.row.linePerToken() ? "" : " (token " + (i + 1) + ")";
      if (!tag.equals("O")
          && !(tag.length() > 2 && tag.charAt(1) == '-' && "BI".indexOf(tag.charAt(0)) >= 0)) {
        c.failAt(
            line,
            "tag \"" + tag + "\"" + where + " is not O, B-TYPE or I-TYPE — use BIO (IOB2) tags");
      } else if (tag.startsWith("I-")
          && !(prev.length() > 2 && prev.substring(2).equals(tag.substring(2)))) {
        c.failAt(
            line,
            "tag \""
                + tag
                + "\""
                + where
                + " follows \""
                + prev
                + "\" — an entity must start with B-"
                + tag.substring(2)
                + " (IOB2)");
      } else if (declared != null && !tag.equals("O") && !declared.contains(tag.substring(2))) {
        c.failAt(
            line,
            "entity type \""
                + tag.substring(2)
                + "\""
                + where
                + " is not in the declared label set — fix the tag or add it to --labels");
      }
      prev = tag;
    }
    return c.ok ? new TokenExample(tokens, tags, c.row.line()) : null;
  }

  private Example chat(Check c) {
    List<ChatExample.Message> out = messages(c, c.f.get("messages"), "messages");
    if (out == null) {
      return null;
    }
    boolean assistant = out.stream().anyMatch(m -> m.role().equals("assistant"));
    boolean learned = out.stream().anyMatch(m -> m.weight() == 1); // an assistant turn to learn
    if (c.ok && !assistant) {
      c.fail("the conversation has no assistant turn — add the answer the model should learn");
    } else if (c.ok && !learned) {
      c.fail(
          "every assistant turn has weight 0, so there is nothing to learn — set weight 1 on the"
              + " answers to train on, or drop the record");
    }
    return c.ok ? new ChatExample(out, c.row.line()) : null;
  }

  /**
   * A list of {@code {role, content[, weight]}} turns at {@code at}, each checked; null (after
   * reporting) when it is not a non-empty list.
   */
  private static List<ChatExample.Message> messages(Check c, JsonNode ms, String at) {
    if (ms == null || !ms.isArray()) {
      c.fail(
          "field \""
              + at
              + "\" must be a list of {\"role\", \"content\"} objects, found "
              + Readers.kind(ms));
      return null;
    }
    if (ms.isEmpty()) {
      c.fail(
          "field \""
              + at
              + "\" is empty — a conversation needs at least a user and an assistant turn");
      return null;
    }
    List<ChatExample.Message> out = new ArrayList<>();
    for (int i = 0; i < ms.size(); i++) {
      String turn = at + "[" + i + "]";
      JsonNode m = ms.get(i);
      if (!m.isObject()) {
        c.fail(turn + " must be an object with \"role\" and \"content\", found " + Readers.kind(m));
        continue;
      }
      JsonNode role = m.get("role");
      JsonNode content = m.get("content");
      if (role == null || !role.isTextual()) {
        c.fail(turn + ".role is missing or not a string — use system, user or assistant");
        continue;
      }
      String r = role.textValue();
      if (!ChatExample.ROLES.contains(r)) {
        c.fail(
            turn
                + ".role \""
                + Readers.shorten(r, 40)
                + "\" is not a known role — use system,"
                + " user or assistant");
        continue;
      }
      if (content == null || !content.isTextual()) {
        c.fail(turn + ".content must be a string, found " + Readers.kind(content));
        continue;
      }
      if (content.textValue().isBlank() && !r.equals("system")) {
        c.fail(turn + ".content is empty — remove the turn or fill it in");
        continue;
      }
      int weight = r.equals("assistant") ? 1 : 0;
      JsonNode w = m.get("weight");
      if (w != null && !w.isNull()) {
        if (!r.equals("assistant")) {
          c.fail(turn + ".weight is only allowed on assistant messages — remove it");
          continue;
        }
        if (!w.isNumber() || (w.asDouble() != 0 && w.asDouble() != 1)) {
          c.fail(turn + ".weight must be 0 or 1, found " + Readers.shorten(w.toString(), 20));
          continue;
        }
        weight = w.asInt();
      }
      out.add(new ChatExample.Message(r, content.textValue(), weight));
    }
    return out;
  }

  /**
   * A preference pair: {@code {prompt, chosen, rejected}}, or OpenAI's {@code {input: {messages},
   * preferred_output: [{role: assistant, content}], non_preferred_output: [...]}}.
   */
  private Example preference(Check c) {
    if (!c.f.has("preferred_output") && !c.f.has("non_preferred_output")) {
      String prompt = c.text("prompt");
      String chosen = c.text("chosen");
      String rejected = c.text("rejected");
      return c.ok
          ? new PreferenceExample(
              List.of(new ChatExample.Message("user", prompt, 0)), chosen, rejected, c.row.line())
          : null;
    }
    JsonNode input = c.f.get("input");
    List<ChatExample.Message> prompt = null;
    if (input == null || !input.isObject()) {
      c.fail(
          "field \"input\" must be an object {\"messages\": [...]} (OpenAI's preference format),"
              + " found "
              + Readers.kind(input));
    } else {
      prompt = messages(c, input.get("messages"), "input.messages");
    }
    String chosen = answer(c, "preferred_output");
    String rejected = answer(c, "non_preferred_output");
    return c.ok ? new PreferenceExample(prompt, chosen, rejected, c.row.line()) : null;
  }

  /** The content of a one-message assistant list ({@code preferred_output} and its pair). */
  private static String answer(Check c, String name) {
    JsonNode o = c.f.get(name);
    if (o == null || !o.isArray() || o.size() != 1 || !o.get(0).isObject()) {
      c.fail(
          "field \""
              + name
              + "\" must be a list of one {\"role\": \"assistant\", \"content\"} message, found "
              + Readers.kind(o)
              + (o != null && o.isArray() ? " of " + o.size() : ""));
      return null;
    }
    JsonNode role = o.get(0).get("role");
    JsonNode content = o.get(0).get("content");
    if (role == null || !"assistant".equals(role.asText())) {
      c.fail(name + "[0].role must be \"assistant\"");
      return null;
    }
    if (content == null || !content.isTextual() || content.textValue().isBlank()) {
      c.fail(name + "[0].content must be a non-empty string");
      return null;
    }
    return content.textValue();
  }

  /** Field checks for one record; remembers whether any failed. */
  private static final class Check {
    final Readers.Row row;
    final ObjectNode f;
    final Errors errors;
    boolean ok = true;

    final Task task;

    Check(Readers.Row row, Errors errors, Task task) {
      this.task = task;
      this.row = row;
      this.f = row.fields();
      this.errors = errors;
    }

    void fail(String message) {
      failAt(row.line(), message);
    }

    void failAt(int line, String message) {
      ok = false;
      errors.error(line, 0, message);
    }

    boolean present(String name) {
      JsonNode n = f.get(name);
      return n != null && !n.isNull();
    }

    /** A string field that may be empty. */
    String string(String name, boolean required) {
      JsonNode n = f.get(name);
      if (n == null || n.isNull()) {
        if (required) {
          fail("missing field \"" + name + "\" — add it (use \"\" when it is empty)");
        }
        return null;
      }
      if (!n.isTextual()) {
        fail(
            "field \""
                + name
                + "\" must be a string, found "
                + Readers.kind(n)
                + " — write it in quotes");
        return null;
      }
      return n.textValue();
    }

    /** A string field that must hold some text. */
    String text(String name) {
      JsonNode n = f.get(name);
      if (n == null || n.isNull()) {
        fail("missing field \"" + name + "\" — every " + task.cliName() + " record needs it");
        return null;
      }
      String s = string(name, true);
      if (s != null && s.isBlank()) {
        fail("field \"" + name + "\" is empty — remove the record or fill it in");
        return null;
      }
      return s;
    }

    double number(String name) {
      JsonNode n = f.get(name);
      if (n == null || n.isNull()) {
        fail("missing field \"" + name + "\" — every " + task.cliName() + " record needs it");
        return 0;
      }
      double v = Double.NaN;
      if (n.isNumber()) {
        v = n.asDouble();
      } else if (n.isTextual()) {
        try {
          v = Double.parseDouble(n.textValue().strip());
        } catch (NumberFormatException e) {
          v = Double.NaN;
        }
      }
      if (!Double.isFinite(v)) {
        fail(
            "field \""
                + name
                + "\" must be a number, found "
                + Readers.shorten(n.toString(), 30)
                + " — write it as e.g. 3.5");
        return 0;
      }
      return v;
    }

    List<String> strings(String name) {
      JsonNode n = f.get(name);
      List<String> out = new ArrayList<>();
      if (n == null || !n.isArray()) {
        fail("field \"" + name + "\" must be a list of strings, found " + Readers.kind(n));
        return out;
      }
      Iterator<JsonNode> it = n.elements();
      int i = 0;
      while (it.hasNext()) {
        JsonNode e = it.next();
        if (!e.isTextual()) {
          fail(name + "[" + i + "] must be a string, found " + Readers.kind(e));
          return out;
        }
        out.add(e.textValue());
        i++;
      }
      return out;
    }
  }
}
