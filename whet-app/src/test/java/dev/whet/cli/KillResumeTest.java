package dev.whet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.model.WeightDiff;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real crash: `whet train` in its own JVM is killed with SIGKILL after it has written a
 * checkpoint; `whet train --resume` then finishes the run with the same weights as a run that was
 * never interrupted.
 */
@Tag("engine")
class KillResumeTest {
  @TempDir static Path dir;
  static TinyTrainRun run;

  @BeforeAll
  static void setUp() throws Exception {
    System.setProperty("whet.home", dir.resolve("home").toString());
    run = TinyTrainRun.create(dir);
  }

  @AfterAll
  static void restore() {
    System.clearProperty("whet.home");
  }

  static List<String> args(Path out) {
    return run.args(out, "--quiet");
  }

  @Test
  void killedRunResumesToTheSameWeights() throws Exception {
    Path whole = dir.resolve("whole");
    Cli.Result r = Cli.run(args(whole).toArray(String[]::new));
    assertEquals(0, r.exit(), r.err());

    Path killed = dir.resolve("killed");
    ProcessBuilder pb =
        WhetProcess.builder(dir.resolve("home"), args(killed)).redirectErrorStream(true);
    pb.redirectOutput(dir.resolve("killed.log").toFile());
    Process p = pb.start();
    // 200 examples / 8 = 25 steps an epoch, 75 in all: kill once the step-15 checkpoint exists.
    Path target = killed.resolve("checkpoint-15");
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (!Files.isRegularFile(target.resolve("trainer_state.json"))
        && p.isAlive()
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(
        p.isAlive(),
        "the run ended before it could be killed:\n" + Files.readString(dir.resolve("killed.log")));
    p.destroyForcibly(); // SIGKILL: no shutdown hooks, no cleanup
    p.waitFor();
    assertTrue(Files.notExists(killed.resolve("model")), "a killed run has no final model");

    Cli.Result resumed = Cli.run("train", "--resume", killed.toString(), "--quiet");
    assertEquals(0, resumed.exit(), resumed.err());
    String events = Files.readString(killed.resolve("events.jsonl"));
    assertTrue(events.contains("\"resumed\""), events);

    double worst =
        WeightDiff.maxAbs(
            whole.resolve("model/model.safetensors"), killed.resolve("model/model.safetensors"));
    System.out.println("kill -9 and resume: max |weight difference| = " + worst);
    assertTrue(worst <= 1e-6, "max abs weight difference " + worst);
  }
}
