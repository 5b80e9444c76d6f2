package dev.whet.cli;

import dev.whet.WhetHome;
import dev.whet.server.Feedback;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code whet feedback}: what users of {@code whet serve} said of its chat completions. */
@Command(
    name = "feedback",
    description =
        "Users' ratings of, and preferred answers to, the chat completions `whet serve` gave"
            + " (POST /v1/whet/feedback).",
    mixinStandardHelpOptions = true,
    subcommands = {FeedbackCommand.Export.class})
final class FeedbackCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  @Command(
      name = "export",
      description =
          "Write a project's feedback on MODEL's chat completions as preference pairs (OpenAI's"
              + " preference format) for `whet train --task dpo`; prints the number of pairs.",
      mixinStandardHelpOptions = true)
  static final class Export implements Callable<Integer> {
    @Parameters(
        index = "0",
        paramLabel = "MODEL",
        description = "The model id the completions were asked of (e.g. ft:base:suffix:ftjob-…).")
    String model;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "JSONL to write.")
    Path out;

    @Option(
        names = "--project",
        paramLabel = "P",
        description = "The project whose feedback to export (default: default).")
    String project = "default";

    @picocli.CommandLine.Mixin KeysCommand.DbOption db = new KeysCommand.DbOption();

    @Override
    public Integer call() {
      int n = Feedback.export(WhetHome.root(), db.db, project, model, out);
      System.out.println(n + " preference pairs written to " + out);
      return 0;
    }
  }
}
