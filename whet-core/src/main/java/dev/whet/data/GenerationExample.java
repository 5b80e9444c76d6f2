package dev.whet.data;

import java.util.List;

/**
 * Prompt/completion generation; the loss is taken on the completion.
 *
 * @param prompt text given to the model (may be empty)
 * @param completion text the model should produce
 * @param line source line
 */
public record GenerationExample(String prompt, String completion, int line) implements Example {
  @Override
  public String input() {
    return prompt;
  }

  @Override
  public List<String> texts() {
    return List.of(prompt, completion);
  }
}
