package dev.whet.cli;

import dev.whet.WhetException;
import dev.whet.engine.Engine;
import picocli.CommandLine.Option;

/** {@code --threads N}: intra-op threads for libtorch and OpenBLAS (default: every core). */
final class ThreadsOption {
  @Option(
      names = "--threads",
      paramLabel = "N",
      description =
          "Intra-op threads (default: OMP_NUM_THREADS when set, else every processor Whet may"
              + " use).")
  Integer threads;

  /** Applies the flag, if given, to the engine; returns the count in force. */
  int apply() {
    if (threads != null) {
      if (threads < 1) {
        throw new WhetException("--threads must be at least 1");
      }
      Engine.threads(threads);
    }
    return Engine.threads();
  }
}
