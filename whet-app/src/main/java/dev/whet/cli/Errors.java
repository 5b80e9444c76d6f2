package dev.whet.cli;

import dev.whet.WhetException;
import picocli.CommandLine;

/**
 * Turns failures into one sentence on standard error and a non-zero exit, never a stack trace for
 * problems the user can fix. {@code WHET_DEBUG=1} shows the trace.
 */
final class Errors implements CommandLine.IExecutionExceptionHandler {
  @Override
  public int handleExecutionException(
      Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
    boolean debug = System.getenv("WHET_DEBUG") != null;
    if (e instanceof WhetException w) {
      System.err.println("whet: " + w.getMessage());
      if (debug) {
        w.printStackTrace();
      }
      return w.exitCode();
    }
    System.err.println("whet: internal error: " + e);
    if (debug) {
      e.printStackTrace();
    } else {
      System.err.println("whet: run again with WHET_DEBUG=1 for the stack trace");
    }
    return 70;
  }
}
