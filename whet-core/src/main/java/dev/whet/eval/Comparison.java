package dev.whet.eval;

/**
 * The reference system (normally the fine-tuned model) against another, on the same examples.
 *
 * @param reference name of the reference system
 * @param other name of the system compared with it
 * @param metric the metric compared, {@code f1_macro} or {@code accuracy}
 * @param difference paired bootstrap interval of {@code reference - other}
 * @param outcome what the interval says
 */
public record Comparison(
    String reference, String other, String metric, Interval difference, Outcome outcome) {

  /** What a paired interval says about the reference. */
  public enum Outcome {
    /** The whole interval is above zero: the reference is better. */
    BETTER,
    /** The whole interval is below zero: the other system is better. */
    WORSE,
    /** The interval contains zero: no difference can be claimed. */
    NO_CLEAR_DIFFERENCE;

    /** Reads an interval of {@code reference - other}. */
    public static Outcome of(Interval difference) {
      if (difference.low() > 0) return BETTER;
      if (difference.high() < 0) return WORSE;
      return NO_CLEAR_DIFFERENCE;
    }
  }
}
