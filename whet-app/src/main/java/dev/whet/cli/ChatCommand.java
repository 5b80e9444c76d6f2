package dev.whet.cli;

import dev.whet.infer.Generator;
import dev.whet.infer.LanguageModel;
import dev.whet.io.ChatTemplate.Message;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code whet chat MODEL}: an interactive conversation. Each user line is added to the history, the
 * history is rendered with the model's chat template, and the reply streams as it is generated.
 */
@Command(
    name = "chat",
    mixinStandardHelpOptions = true,
    description =
        "Chat with a decoder model in the terminal (uses its chat template; /reset clears the"
            + " history, /exit or end of input quits).")
final class ChatCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      paramLabel = "RUN|MODEL",
      description = "A run id or directory, a model name, or a Hugging Face model directory.")
  String model;

  @Option(names = "--system", paramLabel = "TEXT", description = "A system message.")
  String system;

  @Mixin SamplingOptions sampling;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    try (LanguageModel lm = LanguageModel.load(LanguageModel.resolve(model))) {
      List<Message> history = new ArrayList<>();
      if (system != null) {
        history.add(new Message("system", system));
      }
      lm.chatPrompt(List.of(new Message("user", "check"))); // fails early without a template
      PrintWriter out = spec.commandLine().getOut();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      Generator g = lm.generator();
      spec.commandLine().getErr().println("whet: chatting with " + lm.dir() + " (/reset, /exit)");
      spec.commandLine().getErr().flush();
      while (true) {
        out.print("> ");
        out.flush();
        String line = in.readLine();
        if (line == null || line.strip().equals("/exit")) {
          break;
        }
        if (line.strip().equals("/reset")) {
          history.subList(system != null ? 1 : 0, history.size()).clear();
          continue;
        }
        if (line.isBlank()) {
          continue;
        }
        history.add(new Message("user", line));
        Generator.Completion c =
            g.generate(lm.chatPrompt(history), sampling.toOptions(), out::print);
        out.println();
        out.flush();
        history.add(new Message("assistant", c.text().strip()));
      }
    }
    return 0;
  }
}
