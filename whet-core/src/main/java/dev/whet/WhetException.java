package dev.whet;

/**
 * A problem the user can act on: the message names what is wrong, where (file, line, field or
 * tensor) and what to do. The CLI prints it without a stack trace.
 */
public class WhetException extends RuntimeException {
  private final int exitCode;

  public WhetException(String message) {
    this(message, 1, null);
  }

  public WhetException(String message, Throwable cause) {
    this(message, 1, cause);
  }

  public WhetException(String message, int exitCode, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  /** The process exit status the CLI should use. */
  public int exitCode() {
    return exitCode;
  }
}
