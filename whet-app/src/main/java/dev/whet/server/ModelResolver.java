package dev.whet.server;

import dev.whet.WhetException;
import dev.whet.io.ModelCatalog;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Turns a model id from a request into a model directory: a base model (built-in name, or a model
 * under {@code WHET_HOME/models}) or one of the caller's fine-tuned models {@code
 * ft:<base>:<suffix>:<job-id>}. Paths are never accepted, and another project's model is answered
 * as missing.
 */
public final class ModelResolver {
  private final Store store;
  private final List<Consumer<Path>> onDelete = new CopyOnWriteArrayList<>();

  ModelResolver(Store store) {
    this.store = store;
  }

  /** The service database (the inference routes record chat completions there for feedback). */
  Store store() {
    return store;
  }

  /** Calls {@code action} with a fine-tuned model's directory before its files are deleted. */
  public void onDelete(Consumer<Path> action) {
    onDelete.add(action);
  }

  /** Tells every {@link #onDelete} listener (e.g. the inference cache) that {@code dir} goes. */
  void deleting(Path dir) {
    onDelete.forEach(a -> a.accept(dir));
  }

  /** The model's directory; {@link ApiError} 404 when the caller has no such model. */
  public Path resolve(Caller caller, String modelId) {
    if (modelId == null || modelId.isBlank()) {
      throw ApiError.invalid("'model' is required", "model");
    }
    if (isFineTuned(modelId) && checkpointStep(modelId) >= 0) {
      return checkpoint(caller, modelId);
    }
    if (isFineTuned(modelId)) {
      Store.Job job = fineTuned(caller, modelId);
      Path dir = Path.of(job.runDir()).resolve("model");
      // A classifier or merged decoder has config.json; a LoRA SFT run saves an adapter.
      if (!dev.whet.model.ModelRef.isModelDir(dir)) {
        throw ApiError.notFound("model", modelId);
      }
      return dir;
    }
    if (!isBaseName(modelId)) {
      throw ApiError.notFound("model", modelId);
    }
    try {
      return ModelCatalog.resolve(modelId);
    } catch (WhetException e) {
      throw new ApiError(404, "invalid_request_error", e.getMessage(), "model", "model_not_found");
    }
  }

  private static final java.util.regex.Pattern CHECKPOINT =
      java.util.regex.Pattern.compile("(ft:.*):ckpt-step-(\\d{1,18})");

  /** The step of a checkpoint's model id ({@code ft:…:<job-id>:ckpt-step-N}), else -1. */
  static long checkpointStep(String modelId) {
    java.util.regex.Matcher m = CHECKPOINT.matcher(modelId);
    return m.matches() ? Long.parseLong(m.group(2)) : -1;
  }

  /**
   * A checkpoint as a model directory, written on first use beside the run's checkpoints
   * (run/exported/checkpoint-N) from the job's base, data and the checkpoint's weights; 404 when
   * the job or that checkpoint does not exist.
   */
  private Path checkpoint(Caller caller, String modelId) {
    java.util.regex.Matcher m = CHECKPOINT.matcher(modelId);
    if (!m.matches()) throw ApiError.notFound("model", modelId);
    Store.Job job = fineTuned(caller, m.group(1));
    long step = Long.parseLong(m.group(2));
    Path run = Path.of(job.runDir());
    if (!java.nio.file.Files.isDirectory(run.resolve("checkpoint-" + step))) {
      throw ApiError.notFound("model", modelId);
    }
    Path dir = run.resolve("exported").resolve("checkpoint-" + step);
    synchronized (this) { // one export at a time; the second caller finds it written
      if (!dev.whet.model.ModelRef.isModelDir(dir)) {
        try {
          dev.whet.train.Training.exportCheckpoint(run, step, dir);
        } catch (WhetException e) {
          throw new ApiError(
              400, "invalid_request_error", e.getMessage(), "model", "checkpoint_not_servable");
        }
      }
    }
    return dir;
  }

  /** The succeeded, not deleted job of the caller that produced {@code modelId}, or 404. */
  Store.Job fineTuned(Caller caller, String modelId) {
    String jobId = modelId.substring(modelId.lastIndexOf(':') + 1);
    Store.Job job = store.job(caller.project(), jobId);
    if (job == null
        || job.modelDeleted()
        || !job.status().equals("succeeded")
        || !modelId.equals(job.fineTunedModel())) {
      throw ApiError.notFound("model", modelId);
    }
    return job;
  }

  /**
   * What a fine-tuned model is called: {@code ft:<base>:<suffix>:<job-id>}, as OpenAI does; a job
   * that continued a fine-tuned model names the base model at the root.
   */
  static String fineTunedId(Store.Job job) {
    String suffix = JobRequest.fromJson(job.request()).suffix();
    String base = isFineTuned(job.model()) ? job.model().split(":")[1] : job.model();
    return "ft:" + base + ":" + (suffix == null ? "" : suffix) + ":" + job.id();
  }

  /** Whether {@code id} names a fine-tuned model rather than a base model. */
  static boolean isFineTuned(String id) {
    return id.startsWith("ft:");
  }

  /** A name, not a path: letters, digits, '.', '_' and '-', not starting with a dot. */
  static boolean isBaseName(String id) {
    return id.matches("[A-Za-z0-9][A-Za-z0-9._-]*") && id.length() <= 200;
  }
}
