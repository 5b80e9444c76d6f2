package dev.whet.data;

import java.util.List;

/**
 * Graded sentence similarity (STS-B style).
 *
 * @param sentence1 first sentence
 * @param sentence2 second sentence
 * @param score similarity, in whatever range the file uses (STS-B: 0 to 5)
 * @param line source line
 */
public record SimilarityExample(String sentence1, String sentence2, double score, int line)
    implements Example {
  @Override
  public String input() {
    return sentence1 + "\u0001" + sentence2;
  }

  @Override
  public List<String> texts() {
    return List.of(sentence1, sentence2);
  }
}
