package dev.whet.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code whet} command: each stage of the pipeline is a subcommand. */
@Command(
    name = "whet",
    mixinStandardHelpOptions = true,
    version = "whet 0.1.0",
    description =
        "Fine-tune pretrained models on your own data, prove it paid off, serve the result.",
    subcommands = {
      DemoCommand.class,
      DataCommand.class,
      ModelsCommand.class,
      EmbedCommand.class,
      TrainCommand.class,
      LaunchCommand.class,
      PredictCommand.class,
      EvalCommand.class,
      CompareCommand.class,
      GenerateCommand.class,
      ExportCommand.class,
      ChatCommand.class,
      BenchCommand.class,
      ServeCommand.class,
      GcCommand.class,
      KeysCommand.class,
      FeedbackCommand.class,
      CommandLine.HelpCommand.class,
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler(new Errors());
    // @FILE is Whet's own spelling for "read this option's text from FILE" (--system-prompt), not
    // picocli's argument files.
    cli.setExpandAtFiles(false);
    // `whet launch --nproc N train ARGS...`: everything from `train` on is the ranks' command.
    cli.getSubcommands().get("launch").setStopAtPositional(true);
    return cli;
  }
}
