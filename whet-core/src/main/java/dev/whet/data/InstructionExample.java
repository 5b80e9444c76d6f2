package dev.whet.data;

import java.util.List;

/**
 * Alpaca-style instruction tuning.
 *
 * @param instruction what to do
 * @param input optional context for the instruction, empty when there is none
 * @param output the answer the model should produce
 * @param line source line
 */
public record InstructionExample(String instruction, String input, String output, int line)
    implements Example {
  @Override
  public String input() {
    return input.isEmpty() ? instruction : instruction + "\n" + input;
  }

  @Override
  public List<String> texts() {
    return input.isEmpty() ? List.of(instruction, output) : List.of(instruction, input, output);
  }
}
