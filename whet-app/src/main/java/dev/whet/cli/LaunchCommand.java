package dev.whet.cli;

import dev.whet.WhetException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code whet launch --nproc N train ARGS...}: N ranks of {@code whet train ARGS...} on this
 * machine, joined on loopback (as {@code torchrun --standalone} does). Rank 0's output is the
 * launcher's; when a rank fails the others are stopped and the launcher exits with its code.
 */
@Command(
    name = "launch",
    description =
        "Run N data-parallel ranks of `whet train ARGS...` on this machine; prints rank 0's"
            + " output, exits non-zero if any rank fails.",
    mixinStandardHelpOptions = true)
final class LaunchCommand implements Callable<Integer> {
  @Option(names = "--nproc", paramLabel = "N", required = true, description = "Ranks to start.")
  int nproc;

  @Parameters(
      arity = "1..*",
      paramLabel = "train ARGS",
      description = "The command every rank runs: train and its arguments.")
  List<String> command = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    if (nproc < 1) {
      throw new WhetException("--nproc must be at least 1");
    }
    if (!command.get(0).equals("train")) {
      throw new WhetException(
          "whet launch runs `train`, not `" + command.get(0) + "`: whet launch --nproc N train …");
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    // Each rank gets an equal share of the cores unless the user chose (one thread per core).
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / nproc);
    List<Process> ranks = new ArrayList<>();
    for (int rank = 0; rank < nproc; rank++) {
      List<String> argv = new ArrayList<>(java());
      argv.addAll(command);
      argv.addAll(
          List.of(
              "--world-size",
              String.valueOf(nproc),
              "--rank",
              String.valueOf(rank),
              "--rendezvous",
              "127.0.0.1:" + port));
      ProcessBuilder pb = new ProcessBuilder(argv).inheritIO();
      if (rank > 0) {
        // Whet prints nothing there, but libtorch's Gloo writes one "[Gloo] Rank r is connected"
        // line to each rank's stdout: keep the launcher's output rank 0's.
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
      }
      pb.environment().putIfAbsent("OMP_NUM_THREADS", String.valueOf(threads));
      pb.environment().putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
      ranks.add(pb.start());
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> ranks.forEach(Process::destroy)));
    // The first rank to fail decides: the others are stopped rather than left to time out.
    CompletableFuture<Process> failed = new CompletableFuture<>();
    for (Process p : ranks) {
      p.onExit()
          .thenAccept(
              done -> {
                if (done.exitValue() != 0) {
                  failed.complete(done);
                }
              });
    }
    CompletableFuture<Void> all =
        CompletableFuture.allOf(
            ranks.stream().map(Process::onExit).toArray(CompletableFuture[]::new));
    CompletableFuture.anyOf(all, failed).get();
    // When every rank has ended, a failure's callback may not have run yet: read the exit codes.
    Process first =
        failed.isDone()
            ? failed.get()
            : ranks.stream().filter(p -> p.exitValue() != 0).findFirst().orElse(null);
    if (first != null) {
      System.err.printf(
          "whet launch: rank %d exited with %d; stopping the other ranks%n",
          ranks.indexOf(first), first.exitValue());
      for (Process p : ranks) {
        p.destroy();
      }
      for (Process p : ranks) {
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
      return first.exitValue();
    }
    return 0;
  }

  /** This JVM's command line up to the main class: the same java, options and class path. */
  private static List<String> java() {
    List<String> argv = new ArrayList<>();
    argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (!a.startsWith("-agentlib") && !a.startsWith("-javaagent")) {
        argv.add(a); // a debugger's or profiler's agent would clash on its port
      }
    }
    argv.add("-cp");
    argv.add(System.getProperty("java.class.path"));
    argv.add(Main.class.getName());
    return argv;
  }
}
