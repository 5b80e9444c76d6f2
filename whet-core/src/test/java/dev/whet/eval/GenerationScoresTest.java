package dev.whet.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class GenerationScoresTest {
  @Test
  void rougeLIsTheF1OfTheLongestCommonWordSubsequence() {
    // LCS of "the cat sat on the mat" and "the cat lay on a mat": the cat on mat (4 of 6 each).
    assertEquals(
        4.0 / 6, GenerationScores.rougeL("The cat sat on the mat.", "the cat lay on a mat"), 1e-12);
    assertEquals(1.0, GenerationScores.rougeL("Hello, world!", "hello world"), 1e-12);
    assertEquals(0.0, GenerationScores.rougeL("", "hello"), 1e-12);
    // Precision 2/2, recall 2/4: F1 = 2/3.
    assertEquals(2.0 / 3, GenerationScores.rougeL("a b", "a x b y"), 1e-12);
  }

  @Test
  void exactMatchIgnoresSurroundingAndRepeatedWhitespace() {
    assertEquals(1.0, GenerationScores.exactMatch("  The end.\n", "The  end."));
    assertEquals(0.0, GenerationScores.exactMatch("The end", "The end."));
  }
}
