package dev.whet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.model.TinyBert;
import dev.whet.model.WeightDiff;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
  static Path base;
  static Path train;

  @BeforeAll
  static void setUp() throws Exception {
    System.setProperty("whet.home", dir.resolve("home").toString());
    base = TinyBert.create(dir.resolve("tiny"), 9);
    try (InputStream in = TinyBert.class.getResourceAsStream("/data/sst2/dev-200.jsonl")) {
      train =
          Files.write(
              dir.resolve("train.jsonl"),
              new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList());
    }
  }

  @AfterAll
  static void restore() {
    System.clearProperty("whet.home");
  }

  static List<String> args(Path out) {
    return List.of(
        "train",
        "--base",
        base.toString(),
        "--train",
        train.toString(),
        "--out",
        out.toString(),
        "--epochs",
        "3",
        "--batch-size",
        "8",
        "--max-length",
        "32",
        "--lr",
        "1e-3",
        "--seed",
        "4",
        "--set",
        "save_every=5",
        "--set",
        "keep_checkpoints=100",
        "--quiet");
  }

  @Test
  void killedRunResumesToTheSameWeights() throws Exception {
    Path whole = dir.resolve("whole");
    Cli.Result r = Cli.run(args(whole).toArray(String[]::new));
    assertEquals(0, r.exit(), r.err());

    Path killed = dir.resolve("killed");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Dwhet.home=" + dir.resolve("home"));
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(args(killed));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.redirectOutput(dir.resolve("killed.log").toFile());
    pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
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
