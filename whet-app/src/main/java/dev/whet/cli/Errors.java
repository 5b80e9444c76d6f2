package dev.whet.cli;

import dev.whet.WhetException;
import java.io.PrintWriter;
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
    PrintWriter err = cli.getErr();
    if (e instanceof WhetException w) {
      err.println("whet: " + w.getMessage());
      if (debug) {
        w.printStackTrace(err);
      }
      err.flush();
      return w.exitCode();
    }
    err.println("whet: internal error: " + e);
    if (debug) {
      e.printStackTrace(err);
    } else {
      err.println("whet: run again with WHET_DEBUG=1 for the stack trace");
    }
    err.flush();
    return 70;
  }
}
