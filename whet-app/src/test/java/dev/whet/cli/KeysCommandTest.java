package dev.whet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The "contract for scripts" of `whet keys`: the new key alone on the last line. */
class KeysCommandTest {
  @TempDir static Path dir;

  @BeforeAll
  static void setUp() {
    System.setProperty("whet.home", dir.toString());
  }

  @AfterAll
  static void restore() {
    System.clearProperty("whet.home");
  }

  @Test
  void createPrintsTheKeyLastListHidesItRevokeEndsIt() {
    Cli.Result created = Cli.run("keys", "create", "--name", "ci", "--project", "search");
    assertEquals(0, created.exit(), created.err());
    String key = created.lastLine();
    assertTrue(key.matches("whet-[A-Za-z0-9_-]{43}"), key);

    Cli.Result list = Cli.run("keys", "list");
    assertEquals(0, list.exit(), list.err());
    assertTrue(list.out().contains("ci") && list.out().contains("search"), list.out());
    assertFalse(list.out().contains(key), "secrets are never listed");
    String id = list.out().lines().filter(l -> l.contains(" ci ")).findFirst().get().split(" ")[0];

    assertEquals(0, Cli.run("keys", "revoke", id).exit());
    assertTrue(Cli.run("keys", "list").out().contains("revoked"));
    Cli.Result again = Cli.run("keys", "revoke", id);
    assertEquals(1, again.exit());
    assertTrue(again.err().contains("no active key"), again.err());
    assertEquals(2, Cli.run("keys", "create").exit(), "--name is required");
  }
}
