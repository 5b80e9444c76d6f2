package dev.whet.cli;

import dev.whet.infer.GenerationOptions;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Sampling flags shared by {@code generate} and {@code chat}. */
final class SamplingOptions {
  @Option(
      names = "--max-tokens",
      paramLabel = "N",
      defaultValue = "256",
      description = "Most new tokens (default: ${DEFAULT-VALUE}).")
  int maxTokens;

  @Option(
      names = "--temperature",
      defaultValue = "0",
      description = "0 for greedy decoding (default: ${DEFAULT-VALUE}); higher is more random.")
  double temperature;

  @Option(
      names = "--top-k",
      defaultValue = "0",
      description = "Sample among the K most likely tokens; 0 for all (default).")
  int topK;

  @Option(
      names = "--top-p",
      defaultValue = "1",
      description = "Sample among the most likely tokens holding probability P (default: 1).")
  double topP;

  @Option(
      names = "--repetition-penalty",
      defaultValue = "1",
      description = "Penalise tokens already present; 1 for none (default), 1.1-1.3 is typical.")
  double repetitionPenalty;

  @Option(names = "--stop", paramLabel = "S", description = "Stop before this text (repeatable).")
  List<String> stop = new ArrayList<>();

  @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (default: 0).")
  long seed;

  GenerationOptions toOptions() {
    return new GenerationOptions(maxTokens, temperature, topK, topP, repetitionPenalty, stop, seed);
  }
}
