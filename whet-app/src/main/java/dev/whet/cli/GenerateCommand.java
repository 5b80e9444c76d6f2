package dev.whet.cli;

import dev.whet.WhetException;
import dev.whet.infer.Generator;
import dev.whet.infer.LanguageModel;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code whet generate MODEL --prompt TEXT|--bos}: continues a text. Contract for scripts: standard
 * output carries only the generated text, streamed as it is produced; everything else goes to
 * standard error.
 */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description =
        "Continue a text with a decoder model; prints only the generated text on standard output.")
final class GenerateCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      paramLabel = "RUN|MODEL",
      description = "A run id or directory, a model name, or a Hugging Face model directory.")
  String model;

  @Parameters(
      index = "1",
      arity = "0..1",
      paramLabel = "PROMPT",
      description = "The prompt (same as --prompt).")
  String positionalPrompt;

  @Option(names = "--prompt", paramLabel = "TEXT", description = "The text to continue.")
  String prompt;

  @Option(names = "--bos", description = "Generate from the beginning-of-sequence token alone.")
  boolean bos;

  @Option(names = "--verbose", description = "Report token counts and speed on standard error.")
  boolean verbose;

  @Mixin SamplingOptions sampling;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    String text = prompt != null ? prompt : positionalPrompt;
    if (bos == (text != null)) {
      throw new WhetException("give exactly one of --prompt TEXT and --bos", 2, null);
    }
    try (LanguageModel lm = LanguageModel.load(LanguageModel.resolve(model))) {
      long[] ids = bos ? lm.bosPrompt() : lm.prompt(text);
      PrintWriter out = spec.commandLine().getOut();
      long t0 = System.nanoTime();
      Generator.Completion c =
          lm.generator()
              .generate(
                  ids,
                  sampling.toOptions(),
                  piece -> {
                    out.print(piece);
                    out.flush(); // stream: each piece as soon as it is decoded
                  });
      if (System.console() != null) {
        out.println(); // a terminal's prompt should not follow the text on the same line
      }
      out.flush();
      if (verbose) {
        double s = (System.nanoTime() - t0) / 1e9;
        spec.commandLine()
            .getErr()
            .printf(
                "whet: %d prompt tokens, %d generated (%s) in %.2f s, %.1f tokens/s%n",
                c.promptTokens(), c.tokens().length, c.finishReason(), s, c.tokens().length / s);
      }
    }
    return 0;
  }
}
