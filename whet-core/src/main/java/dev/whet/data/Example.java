package dev.whet.data;

import java.util.List;

/**
 * One validated training example. Each task has its own record; {@link #line()} is the (first) line
 * of the source file it came from, so later stages can point back at it.
 */
public sealed interface Example
    permits ClassificationExample,
        TokenExample,
        GenerationExample,
        ChatExample,
        InstructionExample,
        EmbeddingPairExample,
        SimilarityExample,
        PreferenceExample {

  /** 1-based line in the source file where the example starts. */
  int line();

  /**
   * The input side of the example, used to find duplicates and train/validation overlap: two
   * examples with the same input are the same question asked twice.
   */
  String input();

  /**
   * The target as one string (labels joined by {@code |} for multi-label, tags by space), used to
   * find conflicting duplicates and to stratify splits; {@code null} for tasks without discrete
   * labels.
   */
  default String label() {
    return null;
  }

  /**
   * The labels this example carries, each on its own (a classifier's label or labels, a tagger's
   * tags); empty for tasks without discrete labels.
   */
  default List<String> labels() {
    return List.of();
  }

  /** The texts a model reads for this example, in order (for token counting). */
  List<String> texts();
}
