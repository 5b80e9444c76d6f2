package dev.whet.data;

import java.util.List;

/**
 * Contrastive embedding training: the anchor should land near the positive (and far from the
 * negative, when one is given; other positives in the batch serve as negatives otherwise).
 *
 * @param anchor query or sentence
 * @param positive text that matches the anchor
 * @param negative text that does not, or {@code null}
 * @param line source line
 */
public record EmbeddingPairExample(String anchor, String positive, String negative, int line)
    implements Example {
  @Override
  public String input() {
    return anchor;
  }

  @Override
  public List<String> texts() {
    return negative == null ? List.of(anchor, positive) : List.of(anchor, positive, negative);
  }
}
