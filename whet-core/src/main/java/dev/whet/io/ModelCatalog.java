package dev.whet.io;

import dev.whet.WhetException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Built-in base models and Hugging Face directories, resolved to a local model directory in HF
 * layout (config.json, model.safetensors, tokenizer.json).
 */
public final class ModelCatalog {
  /** The model used when none is named. */
  public static final String DEFAULT = "minilm-l6";

  private ModelCatalog() {}

  /**
   * A built-in model name (imported into {@code WHET_HOME/models/<name>/} on first use) or a path
   * to a Hugging Face model directory.
   */
  public static Path resolve(String nameOrDir) {
    Path dir = Path.of(nameOrDir);
    if (Files.isDirectory(dir)) {
      return dir;
    }
    throw new WhetException("unknown model '" + nameOrDir + "' (built-in import not written yet)");
  }
}
