package dev.whet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelsCommandTest {
  @TempDir Path home;
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  @BeforeEach
  void isolate() {
    System.setProperty("whet.home", home.toString());
  }

  @AfterEach
  void restore() {
    System.clearProperty("whet.home");
  }

  private int run(String... args) {
    Cli.Result r = Cli.run(args);
    out.write(r.out());
    err.write(r.err());
    return r.exit();
  }

  @Test
  void jsonListsEveryBuiltInWithNameAndReady() throws Exception {
    assertEquals(0, run("models", "--json"));
    JsonNode list = new ObjectMapper().readTree(out.toString());
    assertTrue(list.isArray());
    assertEquals("minilm-l6", list.get(0).get("name").asText());
    assertFalse(list.get(0).get("ready").asBoolean());
    assertEquals(3, list.size());
    for (JsonNode m : list) {
      assertTrue(m.has("name") && m.has("ready"), m.toString());
    }
  }

  @Test
  void tableHasAHeaderAndOneRowPerModel() {
    assertEquals(0, run("models"));
    String[] lines = out.toString().split("\n");
    assertTrue(lines[0].startsWith("NAME"), lines[0]);
    assertTrue(lines[1].startsWith("minilm-l6"), lines[1]);
    assertTrue(lines[1].contains("22.6M"), lines[1]);
    assertEquals(4, lines.length);
  }

  @Test
  void pullOfAnUnknownModelFailsWithTheList() {
    assertEquals(1, run("models", "pull", "gpt-9"));
    String printed = err.toString();
    assertTrue(
        printed.startsWith(
            "whet: unknown model 'gpt-9': built-in models are minilm-l6,"
                + " bge-small-en, e5-small"),
        printed);
  }
}
