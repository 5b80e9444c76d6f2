package dev.whet.cli;

import dev.whet.WhetException;
import dev.whet.WhetHome;
import dev.whet.io.DiskFiles;
import dev.whet.io.Json;
import dev.whet.train.RunDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code whet gc}: frees the disk finished runs no longer need. A finished run (one with a saved
 * model) never resumes, so its checkpoints' optimizer state (two thirds of each) goes; with {@code
 * --checkpoints} its checkpoints go too, keeping the model. A run without a model may still be
 * resumed and keeps everything but checkpoints a crash left half-written.
 */
@Command(
    name = "gc",
    description =
        "Free disk: delete finished runs' optimizer state (and with --checkpoints their"
            + " checkpoints), and checkpoints a crash left half-written.",
    mixinStandardHelpOptions = true)
final class GcCommand implements Callable<Integer> {
  @Parameters(
      arity = "0..*",
      paramLabel = "RUN",
      description = "Run directories (default: every run under WHET_HOME/runs).")
  List<Path> runs = new ArrayList<>();

  @Option(
      names = "--checkpoints",
      description = "Also delete finished runs' checkpoints; their models stay.")
  boolean checkpoints;

  @Option(names = "--dry-run", description = "Say what would be deleted; delete nothing.")
  boolean dryRun;

  @Option(names = "--json", description = "Print one JSON object.")
  boolean json;

  @Override
  public Integer call() throws IOException {
    List<Map<String, Object>> report = new ArrayList<>();
    long total = 0;
    for (Path dir : runs.isEmpty() ? allRuns() : runs) {
      if (!Files.isRegularFile(dir.resolve("job.yaml"))) {
        throw new WhetException(dir + ": not a run directory (no job.yaml)");
      }
      RunDir run = new RunDir(dir);
      List<Path> doomed = new ArrayList<>(run.abandonedTemporaries());
      if (run.finished()) {
        doomed.addAll(checkpoints ? run.checkpoints() : run.optimizerStates());
      }
      long bytes = 0;
      for (Path p : doomed) {
        bytes += DiskFiles.size(p);
        if (!dryRun) {
          DiskFiles.delete(p);
        }
      }
      total += bytes;
      List<String> names = doomed.stream().map(p -> dir.relativize(p).toString()).toList();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("run", dir.toString());
      m.put("finished", run.finished());
      m.put("deleted", names);
      m.put("bytes", bytes);
      report.add(m);
      if (!json && !doomed.isEmpty()) {
        System.out.printf(
            "%s: %s%s (%s)%n",
            dir,
            dryRun ? "would free " : "freed ",
            DiskFiles.human(bytes),
            String.join(", ", names));
      }
    }
    if (json) {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("dry_run", dryRun);
      out.put("bytes_freed", total);
      out.put("runs", report);
      System.out.println(Json.line(out));
    } else {
      long unfinished = report.stream().filter(m -> !(boolean) m.get("finished")).count();
      System.out.printf(
          "%s %s in %d runs%s%n",
          dryRun ? "Would free" : "Freed",
          DiskFiles.human(total),
          report.size(),
          unfinished == 0
              ? ""
              : "; "
                  + unfinished
                  + " without a model kept their checkpoints (resume them with `whet train"
                  + " --resume RUN`, or delete them)");
    }
    return 0;
  }

  private static List<Path> allRuns() throws IOException {
    Path root = WhetHome.runs();
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(d -> Files.isRegularFile(d.resolve("job.yaml"))).sorted().toList();
    }
  }
}
