package dev.whet.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.WhetException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One hand-written fixture per kind of problem; the messages are part of the user interface. */
class CorruptFixturesTest {
  @TempDir Path dir;

  private List<String> errors(String name, DataOptions options) {
    Path file = TestFiles.copy("corrupt/" + name, dir);
    ValidationReport r = Validator.validate(file, options, e -> {});
    assertFalse(r.valid(), name + " should be invalid");
    return r.errors().stream().map(e -> e.toString().replace(dir + "/", "")).toList();
  }

  private List<String> errors(String name) {
    return errors(name, DataOptions.defaults());
  }

  @Test
  void invalidJsonGivesLineAndColumn() {
    assertEquals(
        List.of(
            "invalid_json.jsonl:2:34: invalid JSON (Unexpected end-of-input: expected close marker"
                + " for Object) — each line must be one complete JSON object",
            "invalid_json.jsonl:3:39: invalid JSON (Unrecognized token 'x': was expecting (JSON"
                + " String, Number, Array, Object or token 'null', 'true' or 'false')) — each line"
                + " must be one complete JSON object"),
        errors("invalid_json.jsonl"));
  }

  @Test
  void invalidUtf8GivesLineAndByteColumn() {
    assertEquals(
        List.of(
            "invalid_utf8.jsonl:3:14: invalid UTF-8 byte sequence — save the file as UTF-8, or"
                + " pass its real encoding with --encoding (e.g. ISO-8859-1)"),
        errors("invalid_utf8.jsonl"));
  }

  @Test
  void missingFields() {
    assertEquals(
        List.of(
            "missing_field.jsonl:2: missing field \"label\" — every classify record needs a label",
            "missing_field.jsonl:3: missing field \"text\" — every classify record needs it"),
        errors("missing_field.jsonl"));
  }

  @Test
  void wrongTypes() {
    assertEquals(
        List.of(
            "wrong_type.jsonl:2: field \"text\" must be a string, found a number — write it in"
                + " quotes",
            "wrong_type.jsonl:3: field \"label\" must be a string or an integer, found a boolean"
                + " — write the label as text, e.g. \"positive\"",
            "wrong_type.jsonl:4: field \"label\" is a list — use --task multilabel when examples"
                + " have several labels"),
        errors("wrong_type.jsonl"));
  }

  @Test
  void emptyTextAndLabel() {
    assertEquals(
        List.of(
            "empty_text.jsonl:2: field \"text\" is empty — remove the record or fill it in",
            "empty_text.jsonl:3: field \"label\" is empty — give every example a label"),
        errors("empty_text.jsonl"));
  }

  @Test
  void notAnObject() {
    assertEquals(
        List.of(
            "not_object.jsonl:2:1: expected a JSON object, found a list — each line must be an"
                + " object such as {\"text\": ..., \"label\": ...}",
            "not_object.jsonl:3:1: expected a JSON object, found a string — each line must be an"
                + " object such as {\"text\": ..., \"label\": ...}"),
        errors("not_object.jsonl"));
  }

  @Test
  void jsonArrayFileIsOneError() {
    assertEquals(
        List.of(
            "json_array.json:1:1: this is a JSON array, not JSON Lines — write one object per"
                + " line, e.g. jq -c '.[]' FILE > FILE.jsonl"),
        errors("json_array.json"));
  }

  @Test
  void unknownFieldsAndEmptyFile() {
    assertEquals(
        List.of(
            "unknown_task.jsonl:1: cannot tell the task from the fields (question, answer) — name"
                + " them text/label, prompt/completion, messages, … or pass --task"),
        errors("unknown_task.jsonl"));
    assertEquals(
        List.of("empty.jsonl: no examples found — the file is empty"), errors("empty.jsonl"));
  }

  @Test
  void labelOutsideDeclaredSet() {
    assertEquals(
        List.of(
            "undeclared_label.jsonl:2: label \"neutral\" is not in the declared label set (neg,"
                + " pos) — fix the label, or add it to --labels"),
        errors("undeclared_label.jsonl", DataOptions.defaults().withLabels(Set.of("pos", "neg"))));
  }

  @Test
  void lineOverTheSizeLimit() {
    assertEquals(
        List.of(
            "long_line.jsonl:2: line is longer than 1000 bytes — shorten or split this record (or"
                + " raise --max-line-bytes)"),
        errors("long_line.jsonl", DataOptions.defaults().withMaxLineBytes(1000)));
  }

  @Test
  void chatProblems() {
    assertEquals(
        List.of(
            "chat.jsonl:2: messages[1].role \"bot\" is not a known role — use system, user or"
                + " assistant",
            "chat.jsonl:3: the conversation has no assistant turn — add the answer the model"
                + " should learn",
            "chat.jsonl:4: messages[0].weight is only allowed on assistant messages — remove it",
            "chat.jsonl:4: messages[1].weight must be 0 or 1, found 2",
            "chat.jsonl:5: field \"messages\" is empty — a conversation needs at least a user and"
                + " an assistant turn",
            "chat.jsonl:6: messages[1].content is empty — remove the turn or fill it in",
            "chat.jsonl:7: every assistant turn has weight 0, so there is nothing to learn — set"
                + " weight 1 on the answers to train on, or drop the record"),
        errors("chat.jsonl"));
  }

  @Test
  void tokenTagProblems() {
    assertEquals(
        List.of(
            "tokens.jsonl:2: \"tokens\" has 2 items but \"tags\" has 1 — give exactly one tag per"
                + " token",
            "tokens.jsonl:3: tag \"I-LOC\" (token 2) follows \"O\" — an entity must start with"
                + " B-LOC (IOB2)",
            "tokens.jsonl:4: tag \"PER\" (token 1) is not O, B-TYPE or I-TYPE — use BIO (IOB2)"
                + " tags"),
        errors("tokens.jsonl"));
  }

  @Test
  void conllErrorsPointAtTheTokenLine() {
    assertEquals(
        List.of(
            "bad_bio.conll:5: tag \"I-location\" follows \"O\" — an entity must start with"
                + " B-location (IOB2)",
            "bad_bio.conll:7: expected a token and a tag separated by a tab, found one column —"
                + " add the tag (O when the token is no entity)"),
        errors("bad_bio.conll"));
  }

  @Test
  void csvFieldCountAndUnclosedQuote() {
    assertEquals(
        List.of(
            "fields.csv:3: expected 2 fields (as in the header), found 3 — quote fields that"
                + " contain the delimiter, or use --no-quotes if quotes are plain text here",
            "fields.csv:4: quoted field starting on this line is never closed — add the closing"
                + " \""),
        errors("fields.csv"));
  }

  @Test
  void otherTasks() {
    assertEquals(
        List.of(
            "similarity.jsonl:2: field \"score\" must be a number, found \"high\" — write it as"
                + " e.g. 3.5"),
        errors("similarity.jsonl"));
    assertEquals(
        List.of(
            "multilabel.jsonl:2: field \"labels\" must be a list of labels, found a string —"
                + " write [\"label\"], or use --task classify for one label each",
            "multilabel.jsonl:3: field \"labels[0]\" must be a string or an integer, found a"
                + " number — write the label as text, e.g. \"positive\""),
        errors("multilabel.jsonl"));
    assertEquals(
        List.of(
            "instruction.jsonl:2: field \"input\" must be a string, found a number — write it in"
                + " quotes",
            "instruction.jsonl:2: field \"output\" is empty — remove the record or fill it in"),
        errors("instruction.jsonl"));
  }

  @Test
  void errorListIsCappedButCounted() {
    Path file = TestFiles.copy("corrupt/chat.jsonl", dir);
    ValidationReport r = Validator.validate(file, DataOptions.defaults().withMaxErrors(2), e -> {});
    assertEquals(2, r.errors().size());
    assertEquals(7, r.errorTotal());
    assertEquals(1, r.count());
    assertEquals(7, r.records());
    assertTrue(r.describeErrors().endsWith("... and 5 more errors"));
  }

  @Test
  void datasetLoadThrowsWithTheErrorsAndTotal() {
    Path file = TestFiles.copy("corrupt/wrong_type.jsonl", dir);
    WhetException e =
        assertThrows(WhetException.class, () -> Dataset.load(file, DataOptions.defaults()));
    assertEquals(1, e.exitCode());
    assertTrue(
        e.getMessage()
            .startsWith(
                file
                    + " is not a valid dataset (3 errors):\n"
                    + file
                    + ":2: field \"text\" must be a string"),
        e.getMessage());
  }

  @Test
  void missingFileIsUnreadable() {
    WhetException e =
        assertThrows(
            WhetException.class,
            () -> Dataset.load(dir.resolve("absent.jsonl"), DataOptions.defaults()));
    assertEquals(2, e.exitCode());
  }
}
