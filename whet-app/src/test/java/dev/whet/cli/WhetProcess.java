package dev.whet.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A `whet` command run as a user's shell runs it: in a JVM of its own (crash and group tests). */
public final class WhetProcess {
  private WhetProcess() {}

  /**
   * `whet ARGS…` in a JVM of its own on this test JVM's classpath, with WHET_HOME {@code home} and
   * the launcher's OMP_WAIT_POLICY; the caller redirects its output and starts it.
   */
  public static ProcessBuilder builder(Path home, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Dwhet.home=" + home);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
    return pb;
  }
}
