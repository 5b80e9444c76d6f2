package dev.whet.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Preference pairs (issue 19): both formats, line-precise errors, statistics and advice. */
class PreferenceDataTest {
  @TempDir Path dir;

  private static final String OPENAI =
      "{\"input\": {\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},"
          + " {\"role\": \"user\", \"content\": \"Where is my card?\"}]},"
          + " \"preferred_output\": [{\"role\": \"assistant\", \"content\": \"On its way.\"}],"
          + " \"non_preferred_output\": [{\"role\": \"assistant\", \"content\": \"No idea.\"}]}";

  @Test
  void bothFormatsReadAsPreferencePairsAndWriteBackAsRead() throws IOException {
    Path file =
        Files.write(
            dir.resolve("prefs.jsonl"),
            List.of(
                "{\"prompt\": \"Say hi\", \"chosen\": \"Hello!\", \"rejected\": \"Go away.\"}",
                OPENAI));
    Dataset d = Dataset.load(file, DataOptions.defaults());
    assertEquals(Task.PREFERENCE, d.task());
    PreferenceExample plain = (PreferenceExample) d.examples().get(0);
    assertEquals("Hello!", plain.chosen());
    assertEquals(List.of(new ChatExample.Message("user", "Say hi", 0)), plain.prompt());
    PreferenceExample openai = (PreferenceExample) d.examples().get(1);
    assertEquals(2, openai.prompt().size());
    assertEquals("On its way.", openai.chosen());
    assertEquals("No idea.", openai.rejected());
    assertEquals(2, openai.line());
    // Written back in the form each was read in (data split keeps the format).
    assertEquals(
        "{\"prompt\":\"Say hi\",\"chosen\":\"Hello!\",\"rejected\":\"Go away.\"}",
        Splitter.toJson(plain, Task.PREFERENCE).toString());
    assertEquals(
        openai,
        new ExampleParser(Task.PREFERENCE, java.util.Set.of())
            .parse(
                new Readers.Row(2, Splitter.toJson(openai, Task.PREFERENCE), false),
                (line, col, m) -> {
                  throw new AssertionError(m);
                }));
  }

  @Test
  void badPairsAreNamedByLineAndField() throws IOException {
    Path file =
        Files.write(
            dir.resolve("bad.jsonl"),
            List.of(
                "{\"prompt\": \"Say hi\", \"chosen\": \"Hello!\", \"rejected\": \"\"}",
                OPENAI.replace(
                    "\"preferred_output\": [",
                    "\"preferred_output\": [{\"role\":" + " \"assistant\", \"content\": \"x\"}, "),
                OPENAI.replace(
                    "\"role\": \"assistant\", \"content\": \"No idea.\"",
                    "\"role\": \"user\", \"content\": \"No idea.\""),
                OPENAI.replace("\"input\": {\"messages\"", "\"input\": {\"turns\"")));
    List<String> errors = new ArrayList<>();
    ValidationReport r =
        Validator.validate(file, DataOptions.defaults().withTask(Task.PREFERENCE), e -> {});
    r.errors().forEach(e -> errors.add(e.toString().replace(dir + "/", "")));
    assertEquals(4, errors.size(), errors.toString());
    assertTrue(errors.get(0).startsWith("bad.jsonl:1: field \"rejected\""), errors.get(0));
    assertTrue(
        errors.get(1).startsWith("bad.jsonl:2: field \"preferred_output\" must be a list of one"),
        errors.get(1));
    assertEquals("bad.jsonl:3: non_preferred_output[0].role must be \"assistant\"", errors.get(2));
    assertTrue(
        errors.get(3).startsWith("bad.jsonl:4: field \"input.messages\" must be a list"),
        errors.get(3));
  }

  @Test
  void statisticsCountIdenticalPairsAndTheLengthBias() throws IOException {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      String chosen = i < 24 ? "A long and careful answer number " + i : "Short " + i;
      String rejected = i == 0 ? chosen : i < 24 ? "Meh " + i : "A much longer rejected reply " + i;
      lines.add(
          "{\"prompt\": \"Q"
              + i
              + "\", \"chosen\": \""
              + chosen
              + "\", \"rejected\": \""
              + rejected
              + "\"}");
    }
    DataStats s =
        DataStats.compute(Files.write(dir.resolve("p.jsonl"), lines), DataOptions.defaults());
    DataStats.PreferenceStats p = s.preferences();
    assertEquals(30, p.pairs());
    assertEquals(1, p.identical());
    assertEquals(23.0 / 30, p.chosenLonger(), 1e-9); // pairs 1–23; pair 0 is identical
    List<String> kinds = s.advice().stream().map(DataStats.Advice::kind).toList();
    assertTrue(
        kinds.contains("identical-pairs") && kinds.contains("length-bias"), kinds.toString());
    assertTrue(s.toJson().has("preferences"));
  }
}
