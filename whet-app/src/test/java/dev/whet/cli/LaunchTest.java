package dev.whet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.io.Json;
import dev.whet.model.WeightDiff;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data parallel from the command line, in real processes: two ranks of `whet train` keep the
 * contract for scripts; a rank killed with SIGKILL makes the other fail soon with a clear error;
 * `whet launch … train --resume` finishes the run with the same weights as an uninterrupted one,
 * and the run also resumes in one process.
 */
@Tag("engine")
class LaunchTest {
  @TempDir static Path dir;
  static TinyTrainRun run;
  static Path train;

  @BeforeAll
  static void setUp() throws Exception {
    run = TinyTrainRun.create(dir);
    train = run.train();
  }

  static List<String> train(Path out) {
    return run.args(out, "--json");
  }

  /** `whet ARGS…` in its own JVM, stdout and stderr to {@code name}.out and .err. */
  static Process whet(String name, List<String> args) throws Exception {
    ProcessBuilder pb = WhetProcess.builder(dir.resolve("home"), args);
    pb.redirectOutput(dir.resolve(name + ".out").toFile());
    pb.redirectError(dir.resolve(name + ".err").toFile());
    pb.environment().put("OMP_NUM_THREADS", "1");
    return pb.start();
  }

  static List<Process> twoRanks(String name, Path out) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    List<Process> ranks = new ArrayList<>();
    for (int rank = 0; rank < 2; rank++) {
      List<String> args = new ArrayList<>(train(out));
      args.addAll(
          List.of(
              "--world-size",
              "2",
              "--rank",
              String.valueOf(rank),
              "--rendezvous",
              "127.0.0.1:" + port,
              "--group-timeout",
              "60"));
      ranks.add(whet(name + rank, args));
    }
    return ranks;
  }

  static String log(String name) throws Exception {
    return Files.readString(dir.resolve(name + ".out"))
        + Files.readString(dir.resolve(name + ".err"));
  }

  static int exit(Process p, String name) throws Exception {
    assertTrue(p.waitFor(5, TimeUnit.MINUTES), name + " still running:\n" + log(name));
    return p.exitValue();
  }

  @Test
  void twoRanksKeepTheContractSurviveAKilledRankAndResume() throws Exception {
    // Uninterrupted: rank 0's last line is the result; rank 1 prints nothing of Whet's.
    Path whole = dir.resolve("whole");
    List<Process> ranks = twoRanks("whole", whole);
    assertEquals(0, exit(ranks.get(0), "whole0"), log("whole0"));
    assertEquals(0, exit(ranks.get(1), "whole1"), log("whole1"));
    List<String> out0 = Files.readAllLines(dir.resolve("whole0.out"));
    JsonNode result = Json.MAPPER.readTree(out0.get(out0.size() - 1));
    for (String key : List.of("run_dir", "model_dir", "best_metric", "train_seconds")) {
      assertTrue(result.has(key), key + " missing from " + result);
    }
    assertEquals(75, result.get("steps").asInt());
    for (String line : Files.readAllLines(dir.resolve("whole1.out"))) {
      // libtorch's Gloo prints this line itself when the group forms; Whet prints nothing.
      assertTrue(line.startsWith("[Gloo] Rank 1 is connected"), "rank 1 printed: " + line);
    }

    // Killed: rank 1 dies with SIGKILL after checkpoint-15; rank 0 must fail soon, saying why.
    Path killed = dir.resolve("killed");
    ranks = twoRanks("killed", killed);
    Path target = killed.resolve("checkpoint-15/trainer_state.json");
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (!Files.isRegularFile(target) && ranks.get(1).isAlive() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(
        ranks.get(1).isAlive(), "the run ended before it could be killed:\n" + log("killed1"));
    ranks.get(1).destroyForcibly();
    long t0 = System.nanoTime();
    Process zero = ranks.get(0);
    assertTrue(zero.waitFor(60, TimeUnit.SECONDS), "rank 0 still running 60 s after rank 1 died");
    double seconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf("rank 0 stopped %.1f s after rank 1 was killed%n", seconds);
    assertNotEquals(0, zero.exitValue());
    String err = Files.readString(dir.resolve("killed0.err"));
    assertTrue(err.contains("lost the group"), err);
    System.out.println("rank 0 said: " + err.strip().lines().reduce((a, b) -> b).orElse(""));
    assertTrue(Files.notExists(killed.resolve("model")), "a killed run has no final model");

    // The same run resumed in one process: another world size works.
    Path single = dir.resolve("single");
    copy(killed, single);

    // Resumed by `whet launch` on 2 ranks: the same weights as the uninterrupted run.
    List<String> resume = List.of("launch", "--nproc", "2", "train", "--resume", killed.toString());
    assertEquals(0, exit(whet("resume", resume), "resume"), log("resume"));
    assertTrue(Files.readString(killed.resolve("events.jsonl")).contains("\"resumed\""));
    double worst =
        WeightDiff.maxAbs(
            whole.resolve("model/model.safetensors"), killed.resolve("model/model.safetensors"));
    System.out.println("2 ranks, kill -9 and resume: max |weight difference| = " + worst);
    assertTrue(worst <= 1e-6, "max abs weight difference " + worst);

    Cli.Result one = Cli.run("train", "--resume", single.toString(), "--json");
    assertEquals(0, one.exit(), one.err());
    assertEquals(75, Json.MAPPER.readTree(one.lastLine()).get("steps").asInt());
  }

  /**
   * `whet launch` with a rank killed: the launcher exits non-zero and no rank is left running
   * (whether rank 0 stopped on its own, having lost the group, or was stopped by the launcher).
   */
  @Test
  void launchExitsNonZeroAndLeavesNoRankBehindWhenOneDies() throws Exception {
    Path out = dir.resolve("launched");
    List<String> args = new ArrayList<>(List.of("launch", "--nproc", "2"));
    args.addAll(train(out));
    Process launcher = whet("launched", args);
    Path target = out.resolve("checkpoint-5/trainer_state.json");
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (!Files.isRegularFile(target) && launcher.isAlive() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    List<ProcessHandle> ranks = launcher.descendants().toList();
    String seen = log("launched");
    ProcessHandle one =
        ranks.stream()
            .filter(h -> commandLine(h).contains(" --rank 1 "))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no rank 1 among " + ranks + ":\n" + seen));
    one.destroyForcibly();
    assertTrue(launcher.waitFor(60, TimeUnit.SECONDS), "launch still running after rank 1 died");
    assertNotEquals(0, launcher.exitValue());
    for (ProcessHandle h : ranks) {
      assertTrue(h.onExit().get(10, TimeUnit.SECONDS) != null && !h.isAlive(), h + " left running");
    }
  }

  @Test
  void badGroupFlagsGetOneClearSentence() {
    Cli.Result noRendezvous =
        Cli.run("train", "--train", train.toString(), "--world-size", "2", "--rank", "1");
    assertEquals(1, noRendezvous.exit());
    assertTrue(
        noRendezvous.err().contains("--world-size 2 needs --rendezvous HOST:PORT"),
        noRendezvous.err());

    Cli.Result badRank =
        Cli.run(
            "train",
            "--train",
            train.toString(),
            "--world-size",
            "2",
            "--rank",
            "2",
            "--rendezvous",
            "127.0.0.1:1");
    assertEquals(1, badRank.exit());
    assertTrue(badRank.err().contains("rank 2 is not in a group of 2"), badRank.err());

    Cli.Result badJob =
        Cli.run(
            "train",
            "--train",
            train.toString(),
            "--batch-size",
            "0",
            "--world-size",
            "2",
            "--rank",
            "1",
            "--rendezvous",
            "127.0.0.1:1");
    assertEquals(1, badJob.exit());
    assertTrue(badJob.err().contains("batch_size must be positive"), badJob.err());

    Cli.Result notTrain = Cli.run("launch", "--nproc", "2", "predict", "x");
    assertEquals(1, notTrain.exit());
    assertTrue(notTrain.err().contains("whet launch runs `train`"), notTrain.err());
  }

  /** A process's command line from /proc (ProcessHandle.Info leaves out long ones). */
  static String commandLine(ProcessHandle h) {
    try {
      return Files.readString(Path.of("/proc", String.valueOf(h.pid()), "cmdline"))
          .replace('\0', ' ');
    } catch (java.io.IOException e) {
      return "";
    }
  }

  static void copy(Path from, Path to) throws Exception {
    try (var files = Files.walk(from)) {
      for (Path p : files.toList()) {
        Path q = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(q);
        } else {
          Files.copy(p, q);
        }
      }
    }
  }
}
