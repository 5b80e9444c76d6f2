package dev.whet.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.WhetException;
import dev.whet.WhetHome;
import dev.whet.io.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A run directory laid out as DESIGN.md describes (Hugging Face Trainer conventions): job.yaml,
 * metrics.jsonl, events.jsonl, checkpoint-N/, model/, eval/.
 */
public record RunDir(Path path) {
  static final ObjectMapper JSON = Json.MAPPER;

  /** A new run directory: {@code out} if given, else a time-stamped one under WHET_HOME/runs. */
  public static RunDir create(String out) {
    Path dir;
    if (out != null) {
      dir = Path.of(out);
    } else {
      String id =
          "run-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
      dir = WhetHome.runs().resolve(id);
      for (int n = 2; Files.exists(dir); n++) {
        dir = WhetHome.runs().resolve(id + "-" + n);
      }
    }
    if (Files.exists(dir.resolve("job.yaml"))) {
      throw new WhetException(
          dir
              + ": already holds a run; continue it with `whet train --resume "
              + dir
              + "` or choose another --out");
    }
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new WhetException(
          dir + ": cannot create the run directory (" + e.getMessage() + ")", e);
    }
    return new RunDir(dir);
  }

  /** An existing run, given by its directory or its id under WHET_HOME/runs. */
  public static RunDir open(String dirOrId) {
    Path dir = Path.of(dirOrId);
    if (!Files.isDirectory(dir)) {
      dir = WhetHome.runs().resolve(dirOrId);
    }
    if (!Files.isRegularFile(dir.resolve("job.yaml"))) {
      throw new WhetException(dirOrId + ": not a run directory (no job.yaml)");
    }
    return new RunDir(dir);
  }

  public Path jobYaml() {
    return path.resolve("job.yaml");
  }

  public Path metrics() {
    return path.resolve("metrics.jsonl");
  }

  public Path events() {
    return path.resolve("events.jsonl");
  }

  public Path model() {
    return path.resolve("model");
  }

  public Path eval() {
    return path.resolve("eval");
  }

  public Path checkpoint(long step) {
    return path.resolve("checkpoint-" + step);
  }

  /** Complete checkpoints, oldest first. */
  public List<Path> checkpoints() {
    try (Stream<Path> s = Files.list(path)) {
      return s.filter(p -> p.getFileName().toString().matches("checkpoint-\\d+"))
          .filter(p -> Files.isRegularFile(p.resolve("trainer_state.json")))
          .sorted(Comparator.comparingLong(RunDir::stepOf))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether training ended with a saved model: such a run never resumes. */
  public boolean finished() {
    return Files.isRegularFile(model().resolve("whet.json"));
  }

  /** Its checkpoints' optimizer-state files: what only resuming needs. */
  public List<Path> optimizerStates() {
    return checkpoints().stream()
        .map(c -> c.resolve(Checkpoint.OPTIMIZER))
        .filter(Files::isRegularFile)
        .toList();
  }

  /**
   * Checkpoints a crash left half-written ({@code .tmp-checkpoint-N}, never renamed into place) and
   * not touched for an hour, so a run saving right now keeps its own.
   */
  public List<Path> abandonedTemporaries() {
    long hourAgo = System.currentTimeMillis() - 3_600_000;
    try (Stream<Path> s = Files.list(path)) {
      return s.filter(p -> p.getFileName().toString().startsWith(".tmp-checkpoint-"))
          .filter(
              p -> {
                try {
                  return Files.getLastModifiedTime(p).toMillis() < hourAgo;
                } catch (IOException e) {
                  return false;
                }
              })
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Deletes the optimizer state of every checkpoint: a finished run never resumes, and the moments
   * are two thirds of each checkpoint (two fp32 copies of the trained weights). The weights and
   * trainer state stay, so checkpoints remain listed and loadable as models.
   *
   * @return the bytes freed
   */
  public long dropOptimizerState() {
    long freed = 0;
    for (Path optimizer : optimizerStates()) {
      try {
        freed += Files.size(optimizer);
        Files.delete(optimizer);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return freed;
  }

  public static long stepOf(Path checkpoint) {
    return Long.parseLong(checkpoint.getFileName().toString().substring("checkpoint-".length()));
  }

  /** Appends one JSON object as a line (metrics.jsonl, events.jsonl). */
  public static void appendJson(Path file, Map<String, ?> object) {
    try {
      Files.writeString(
          file,
          JSON.writeValueAsString(object) + "\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes metrics.jsonl and events.jsonl as training goes. */
  public TrainerListener logger() {
    return new TrainerListener() {
      @Override
      public void onStep(Step s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", s.step());
        m.put("epoch", round(s.epoch()));
        m.put("loss", s.loss());
        m.put("lr", s.lr());
        m.put("grad_norm", s.gradNorm());
        m.put("tokens_per_second", Math.round(s.tokens() / Math.max(1e-9, s.seconds())));
        m.putAll(s.metrics());
        appendJson(metrics(), m);
      }

      @Override
      public void onEval(long step, Map<String, Double> metrics) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        metrics.forEach((k, v) -> m.put("eval_" + k, v));
        appendJson(metrics(), m);
      }

      @Override
      public void onEvent(String kind, String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("time", java.time.Instant.now().toString());
        m.put("type", kind);
        m.put("message", message);
        appendJson(events(), m);
      }
    };
  }

  private static double round(double x) {
    return Math.round(x * 1000) / 1000.0;
  }
}
