package dev.whet.infer;

import dev.whet.WhetException;
import java.util.List;

/**
 * How to pick each next token and when to stop.
 *
 * @param maxTokens most new tokens to generate
 * @param temperature 0 for greedy decoding (argmax); otherwise logits are divided by it before
 *     sampling
 * @param topK sample among the k most likely tokens only; 0 for all
 * @param topP sample among the smallest set of most likely tokens whose probability reaches p; 1
 *     for all
 * @param repetitionPenalty divides positive (multiplies negative) logits of tokens already in the
 *     prompt or output (CTRL, as in transformers); 1 for none
 * @param stop strings that end generation; the text is cut before them
 * @param seed seed of the sampler, so sampled outputs can be reproduced
 */
public record GenerationOptions(
    int maxTokens,
    double temperature,
    int topK,
    double topP,
    double repetitionPenalty,
    List<String> stop,
    long seed) {

  public GenerationOptions {
    if (maxTokens < 0) {
      throw new WhetException("max tokens must be at least 0, got " + maxTokens);
    }
    if (temperature < 0) {
      throw new WhetException("temperature must be at least 0, got " + temperature);
    }
    if (topK < 0) {
      throw new WhetException("top-k must be at least 0, got " + topK);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new WhetException("top-p must be in (0, 1], got " + topP);
    }
    if (!(repetitionPenalty > 0)) {
      throw new WhetException("repetition penalty must be positive, got " + repetitionPenalty);
    }
    stop = List.copyOf(stop);
    for (String s : stop) {
      if (s.isEmpty()) {
        throw new WhetException("stop sequences must not be empty");
      }
    }
  }

  /** Greedy decoding of up to {@code maxTokens} tokens, no penalty, no stop strings. */
  public static GenerationOptions greedy(int maxTokens) {
    return new GenerationOptions(maxTokens, 0, 0, 1, 1, List.of(), 0);
  }

  public boolean isGreedy() {
    return temperature == 0;
  }
}
