package dev.whet.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.WhetException;
import dev.whet.WhetHome;
import dev.whet.data.Task;
import dev.whet.io.Json;
import dev.whet.io.ModelCatalog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What a model reference names, for the CLI and the server alike: a run (its directory, or its id
 * under {@code WHET_HOME/runs}) means the run's {@code model/}; a model directory (it has {@code
 * config.json} or a LoRA adapter's {@code adapter_config.json}) means itself; anything else is a
 * base-model name for {@link ModelCatalog}. The kind is read from the directory's small JSON files,
 * without loading weights.
 *
 * @param dir the model directory
 */
public record ModelRef(Path dir, Kind kind) {

  /** What a model directory holds. */
  public enum Kind {
    ENCODER("an encoder"),
    CLASSIFIER("a classifier"),
    TAGGER("a token classifier (entity extraction)"),
    DECODER("a decoder (text generation)"),
    OTHER("a model of a task Whet does not serve");

    private final String description;

    Kind(String description) {
      this.description = description;
    }

    /** "a classifier": for messages. */
    public String description() {
      return description;
    }
  }

  /** Resolves {@code ref} as the class comment says. */
  public static ModelRef resolve(String ref) {
    for (Path run : List.of(Path.of(ref), WhetHome.runs().resolve(ref))) {
      if (isModelDir(run.resolve("model"))) {
        return of(run.resolve("model"));
      }
    }
    Path dir = Path.of(ref);
    if (isModelDir(dir)) {
      return of(dir);
    }
    return of(ModelCatalog.resolve(ref));
  }

  /** The model in {@code dir}, with its kind. */
  public static ModelRef of(Path dir) {
    return new ModelRef(dir, kindOf(dir));
  }

  /** Whether {@code dir} holds a model: its config.json, or a LoRA adapter. */
  public static boolean isModelDir(Path dir) {
    return Files.isRegularFile(dir.resolve("config.json")) || DecoderFiles.isAdapter(dir);
  }

  /** The run a model directory belongs to (where eval/ goes), or null for a bare model. */
  public static Path runOf(Path modelDir) {
    return Files.isRegularFile(modelDir.resolveSibling("job.yaml")) ? modelDir.getParent() : null;
  }

  /**
   * A LoRA adapter or a Llama-family config is a decoder; a config with Whet's {@code whet.json} of
   * a classifier task is a classifier, of the tokens task a tagger, as is a Transformers token
   * classifier; any other config an encoder.
   */
  public static Kind kindOf(Path dir) {
    if (DecoderFiles.isAdapter(dir)) {
      return Kind.DECODER; // loaded with its base model
    }
    JsonNode config = readJson(dir.resolve("config.json"));
    if (config == null) {
      throw new WhetException(dir.getFileName() + ": not a model directory (no config.json)");
    }
    if (LlamaConfig.SUPPORTED.contains(config.path("model_type").asText())) {
      return Kind.DECODER;
    }
    JsonNode whet = readJson(dir.resolve("whet.json"));
    if (whet == null) {
      // Transformers' token classifiers load as they are (ClassifierModel.load).
      return config.path("architectures").path(0).asText("").endsWith("ForTokenClassification")
          ? Kind.TAGGER
          : Kind.ENCODER;
    }
    try {
      Task task = Task.parse(whet.path("task").asText(Task.CLASSIFICATION.cliName()));
      if (task.embeds()) {
        return Kind.ENCODER; // a fine-tuned sentence-embedding model: served like its base
      }
      return task.classifies()
          ? Kind.CLASSIFIER
          : task == Task.TOKEN_CLASSIFICATION ? Kind.TAGGER : Kind.OTHER;
    } catch (WhetException e) {
      return Kind.OTHER; // a task this version does not know
    }
  }

  private static JsonNode readJson(Path file) {
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try {
      return Json.MAPPER.readTree(file.toFile());
    } catch (IOException e) {
      throw new WhetException(file.getFileName() + ": not valid JSON (" + e.getMessage() + ")");
    }
  }
}
