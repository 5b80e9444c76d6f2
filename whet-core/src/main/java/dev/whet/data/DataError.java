package dev.whet.data;

/**
 * One problem in a dataset file.
 *
 * @param file the file name as the user gave it
 * @param line 1-based line, 0 when the problem concerns the whole file
 * @param column 1-based column (character for JSON, byte for encoding errors), 0 when unknown
 * @param message what is wrong and how to fix it ({@code what — how})
 */
public record DataError(String file, int line, int column, String message) {
  /** {@code file:line[:column]: message}, the form compilers use so editors can jump to it. */
  @Override
  public String toString() {
    StringBuilder s = new StringBuilder(file);
    if (line > 0) {
      s.append(':').append(line);
      if (column > 0) {
        s.append(':').append(column);
      }
    }
    return s.append(": ").append(message).toString();
  }
}
