package dev.whet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 16, item 9: {@code whet gc} frees what finished runs no longer need, and only that. */
class GcCommandTest {
  @TempDir Path home;
  Path finished;
  Path unfinished;

  @BeforeEach
  void runs() throws Exception {
    System.setProperty("whet.home", home.toString());
    finished = home.resolve("runs").resolve("run-a");
    checkpoint(finished, 4);
    Files.createDirectories(finished.resolve("model"));
    Files.writeString(finished.resolve("model").resolve("whet.json"), "{}");
    Files.write(finished.resolve("model").resolve("model.safetensors"), new byte[1000]);
    unfinished = home.resolve("runs").resolve("run-b");
    checkpoint(unfinished, 2);
    Path crashed = Files.createDirectories(unfinished.resolve(".tmp-checkpoint-3"));
    Files.write(crashed.resolve("model.safetensors"), new byte[500]);
    Files.setLastModifiedTime(crashed, FileTime.from(Instant.now().minus(2, ChronoUnit.HOURS)));
    Path saving = Files.createDirectories(unfinished.resolve(".tmp-checkpoint-4"));
    Files.write(saving.resolve("model.safetensors"), new byte[500]);
  }

  @AfterEach
  void restore() {
    System.clearProperty("whet.home");
  }

  static void checkpoint(Path run, int step) throws Exception {
    Path c = Files.createDirectories(run.resolve("checkpoint-" + step));
    Files.writeString(run.resolve("job.yaml"), "task: classify\n");
    Files.write(c.resolve("model.safetensors"), new byte[1000]);
    Files.write(c.resolve("optimizer.safetensors"), new byte[2000]);
    Files.writeString(c.resolve("trainer_state.json"), "{}");
  }

  @Test
  void dryRunDeletesNothingAndSaysWhatWouldGo() throws Exception {
    Cli.Result r = Cli.run("gc", "--dry-run", "--json");
    assertEquals(0, r.exit(), r.err());
    JsonNode out = new ObjectMapper().readTree(r.lastLine());
    assertTrue(out.get("dry_run").asBoolean());
    assertEquals(2000 + 500, out.get("bytes_freed").asLong(), out.toString());
    assertEquals(
        "checkpoint-4/optimizer.safetensors",
        out.get("runs").get(0).get("deleted").get(0).asText(),
        out.toString());
    assertTrue(Files.exists(finished.resolve("checkpoint-4").resolve("optimizer.safetensors")));
    assertTrue(Files.exists(unfinished.resolve(".tmp-checkpoint-3")));
  }

  @Test
  void finishedRunsLoseTheirOptimizerStateAndUnfinishedOnesKeepIt() {
    Cli.Result r = Cli.run("gc");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("Freed 2 KiB in 2 runs"), r.out());
    assertTrue(r.out().contains("1 without a model kept their checkpoints"), r.out());
    assertFalse(Files.exists(finished.resolve("checkpoint-4").resolve("optimizer.safetensors")));
    assertTrue(Files.exists(finished.resolve("checkpoint-4").resolve("model.safetensors")));
    assertTrue(
        Files.exists(unfinished.resolve("checkpoint-2").resolve("optimizer.safetensors")),
        "a run without a model may be resumed");
    assertFalse(Files.exists(unfinished.resolve(".tmp-checkpoint-3")), "a crash's leftover");
    assertTrue(Files.exists(unfinished.resolve(".tmp-checkpoint-4")), "a save in progress");
  }

  @Test
  void checkpointsGoOnRequestAndTheModelStays() {
    Cli.Result r = Cli.run("gc", "--checkpoints", finished.toString());
    assertEquals(0, r.exit(), r.err());
    assertFalse(Files.exists(finished.resolve("checkpoint-4")));
    assertTrue(Files.exists(finished.resolve("model").resolve("model.safetensors")));
    assertTrue(Files.exists(unfinished.resolve(".tmp-checkpoint-3")), "only the named run");
    assertEquals(1, Cli.run("gc", home.toString()).exit(), "not a run directory");
  }
}
