package dev.whet.data;

import java.util.List;

/**
 * Single-label, multi-label or pair classification.
 *
 * @param text the text to classify
 * @param textPair the second text for pair tasks, {@code null} otherwise
 * @param labels one label (single-label and pair tasks) or any number (multi-label)
 * @param line source line
 */
public record ClassificationExample(String text, String textPair, List<String> labels, int line)
    implements Example {
  public ClassificationExample {
    labels = List.copyOf(labels);
  }

  @Override
  public String input() {
    return textPair == null ? text : text + "\u0001" + textPair;
  }

  @Override
  public String label() {
    return String.join("|", labels);
  }

  @Override
  public List<String> texts() {
    return textPair == null ? List.of(text) : List.of(text, textPair);
  }
}
