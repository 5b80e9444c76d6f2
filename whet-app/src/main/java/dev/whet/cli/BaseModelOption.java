package dev.whet.cli;

import dev.whet.io.ModelCatalog;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --base NAME|DIR}: a built-in model name or a Hugging Face model directory. */
final class BaseModelOption {
  @Option(
      names = "--base",
      paramLabel = "NAME|DIR",
      description =
          "Base model: a built-in name (see `whet models`) or a Hugging Face directory (default: ${DEFAULT-VALUE}).",
      defaultValue = ModelCatalog.DEFAULT)
  String base;

  /** The local model directory, imported on first use for built-in names. */
  Path resolve() {
    return ModelCatalog.resolve(base);
  }
}
