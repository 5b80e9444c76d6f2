package dev.whet.cli;

import dev.whet.WhetHome;
import dev.whet.eval.EvalResult;
import dev.whet.eval.ReportWriter;
import dev.whet.io.Atomic;
import dev.whet.io.ModelCatalog;
import dev.whet.train.JobConfig;
import dev.whet.train.TrainResult;
import dev.whet.train.Training;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code whet demo}: the whole story on bundled data — fine-tune the default model on customer
 * messages, then compare it on held-out messages with what the base model does without training its
 * weights and with a classic TF-IDF baseline.
 */
@Command(
    name = "demo",
    description =
        "Fine-tune the default model on bundled customer-service intents and show before/after.",
    mixinStandardHelpOptions = true)
final class DemoCommand implements Callable<Integer> {
  @Option(
      names = "--epochs",
      defaultValue = "auto",
      description = "Passes over the data (default: ${DEFAULT-VALUE}).")
  String epochs;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description = "Run directory (default: WHET_HOME/runs/run-<time>).")
  String out;

  @Option(
      names = "--json",
      description = "Print the evaluation (eval.json) as one JSON object at the end.")
  boolean json;

  @Override
  public Integer call() throws IOException {
    Path dir = WhetHome.root().resolve("demo/banking77");
    for (String split : List.of("train", "val", "test")) {
      try (InputStream in =
          DemoCommand.class.getResourceAsStream("/demo/banking77/" + split + ".jsonl")) {
        Atomic.write(dir.resolve(split + ".jsonl"), in.readAllBytes());
      }
    }
    System.err.printf(
        "Whet demo: route customer messages to 20 intents (BANKING77, CC-BY-4.0)%n"
            + "  %d training and %d validation examples, %d held-out test messages; base model %s%n"
            + "  data in %s%n%n",
        lines(dir.resolve("train.jsonl")),
        lines(dir.resolve("val.jsonl")),
        lines(dir.resolve("test.jsonl")),
        ModelCatalog.DEFAULT,
        dir);
    JobConfig job = new JobConfig();
    job.train = dir.resolve("train.jsonl").toString();
    job.val = dir.resolve("val.jsonl").toString();
    job.test = dir.resolve("test.jsonl").toString();
    job.epochs = epochs;
    job.out = out;
    job.maxLength = 64;
    TrainResult r = Training.start(job, List.of(new ProgressListener()));
    EvalResult e = r.evaluation();
    if (json) {
      System.out.println(ReportWriter.json(e).replace('\n', ' '));
      return 0;
    }
    System.out.printf("%nBefore and after, on the %d held-out test messages:%n%n", e.n());
    EvalCommand.print(e);
    System.out.printf(
        Locale.ROOT,
        "%nTraining took %.0f s. Report: %s%nModel: %s%nTry it:  ./whet predict %s \"my card still hasn't arrived\"%n",
        r.trainSeconds(),
        r.runDir().resolve("eval/report.html"),
        r.modelDir(),
        r.runDir());
    return 0;
  }

  private static long lines(Path file) throws IOException {
    try (var s = Files.lines(file)) {
      return s.filter(l -> !l.isBlank()).count();
    }
  }
}
