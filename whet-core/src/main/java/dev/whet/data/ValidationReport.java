package dev.whet.data;

import java.util.List;

/**
 * The outcome of validating one file.
 *
 * @param file the file name as given
 * @param task the task the records were read as ({@code null} if it could not be determined)
 * @param count number of valid examples
 * @param records number of records read (valid or not)
 * @param errors the first errors, in file order, at most {@link DataOptions#maxErrors()}
 * @param errorTotal how many errors there were in all
 */
public record ValidationReport(
    String file, Task task, int count, int records, List<DataError> errors, int errorTotal) {
  public ValidationReport {
    errors = List.copyOf(errors);
  }

  /** True when the file has at least one example and no errors. */
  public boolean valid() {
    return errorTotal == 0 && count > 0;
  }

  /**
   * The listed errors one per line, then how many more there were; what {@link Dataset#load} puts
   * in its exception.
   */
  public String describeErrors() {
    StringBuilder s = new StringBuilder();
    for (DataError e : errors) {
      s.append(e).append('\n');
    }
    if (errorTotal > errors.size()) {
      s.append("... and ").append(errorTotal - errors.size()).append(" more errors\n");
    }
    return s.toString().stripTrailing();
  }
}
