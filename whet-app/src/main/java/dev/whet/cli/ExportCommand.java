package dev.whet.cli;

import dev.whet.WhetException;
import dev.whet.infer.LanguageModel;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code whet export RUN --merged [--out DIR]}: a fine-tuned decoder as one Hugging Face model
 * directory, its LoRA adapters folded into the weights. Prints the directory on its last line.
 */
@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description =
        "Write a run's decoder as a Hugging Face model directory (config.json, model.safetensors,"
            + " tokenizer files, chat template); prints the directory last.")
final class ExportCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      paramLabel = "RUN",
      description = "A run id or directory (or an adapter or model directory).")
  String run;

  @Option(
      names = "--merged",
      description = "Fold the LoRA adapters into the weights (the only form written so far).")
  boolean merged;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description = "Where to write (default: RUN/merged).")
  Path out;

  @Override
  public Integer call() {
    if (!merged) {
      throw new WhetException(
          "give --merged: the run's model/ already is the adapter; export writes the merged model",
          2,
          null);
    }
    Path model = LanguageModel.resolve(run);
    Path target = out != null ? out : model.toAbsolutePath().getParent().resolve("merged");
    try (LanguageModel lm = LanguageModel.load(model)) {
      lm.exportMerged(target);
    }
    System.out.println(target);
    return 0;
  }
}
