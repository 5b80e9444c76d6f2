package dev.whet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.whet.io.Json;
import dev.whet.io.ModelCatalog;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code whet models}: the built-in and cached models; {@code whet models pull NAME}. */
@Command(
    name = "models",
    mixinStandardHelpOptions = true,
    description = "List built-in and cached base models; `whet models pull NAME` fetches one.",
    subcommands = {ModelsCommand.Pull.class, ModelsCommand.Import.class})
public final class ModelsCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--json",
      description = "Print a JSON list of objects (name, ready, architecture, ...) for scripts.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    List<ModelCatalog.Entry> entries = ModelCatalog.list();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ObjectMapper mapper = Json.MAPPER;
      ArrayNode list = mapper.createArrayNode();
      for (ModelCatalog.Entry e : entries) {
        list.addObject()
            .put("name", e.name())
            .put("ready", e.ready())
            .put("architecture", e.architecture())
            .put("layers", e.layers())
            .put("hidden_size", e.hiddenSize())
            .put("parameters", e.parameters())
            .put("source", e.source())
            .put("description", e.description());
      }
      out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(list));
    } else {
      String row = "%-14s %-12s %6s %6s %10s  %-5s  %s%n";
      out.printf(row, "NAME", "ARCHITECTURE", "LAYERS", "HIDDEN", "PARAMETERS", "READY", "SOURCE");
      for (ModelCatalog.Entry e : entries) {
        out.printf(
            row,
            e.name(),
            e.architecture(),
            e.layers(),
            e.hiddenSize(),
            humanCount(e.parameters()),
            e.ready() ? "yes" : "no",
            e.source());
      }
    }
    out.flush();
    return 0;
  }

  /** 22565376 as "22.6M". */
  static String humanCount(long n) {
    if (n >= 1_000_000_000L) {
      return String.format(Locale.ROOT, "%.1fB", n / 1e9);
    }
    if (n >= 1_000_000L) {
      return String.format(Locale.ROOT, "%.1fM", n / 1e6);
    }
    if (n >= 1_000L) {
      return String.format(Locale.ROOT, "%.1fK", n / 1e3);
    }
    return Long.toString(n);
  }

  /** {@code whet models pull NAME}. */
  @Command(
      name = "pull",
      mixinStandardHelpOptions = true,
      description =
          "Fetch a built-in model with Maven (your settings and mirrors apply) and import it;"
              + " prints its directory.")
  static final class Pull implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "NAME", description = "A built-in model name, e.g. bge-small-en.")
    String name;

    @Override
    public Integer call() {
      ModelCatalog.BuiltIn b = ModelCatalog.builtIn(name);
      spec.commandLine()
          .getErr()
          .println("whet: pulling " + b.name() + " (" + b.coordinates() + ")");
      spec.commandLine().getErr().flush();
      Path dir = ModelCatalog.pull(name);
      spec.commandLine().getOut().println(dir);
      spec.commandLine().getOut().flush();
      return 0;
    }
  }

  /** {@code whet models import FILE.gguf --name NAME}. */
  @Command(
      name = "import",
      mixinStandardHelpOptions = true,
      description =
          "Import a llama-architecture GGUF file (F32, F16, BF16, Q8_0, Q4_K, Q6_K; dequantised)"
              + " as a Hugging Face model directory; prints the directory on its last line.")
  static final class Import implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "FILE.gguf", description = "The GGUF file.")
    Path file;

    @Option(
        names = "--name",
        required = true,
        paramLabel = "NAME",
        description = "Name under WHET_HOME/models (letters, digits, '.', '_', '-').")
    String name;

    @Override
    public Integer call() {
      spec.commandLine().getErr().println("whet: importing " + file + " as " + name);
      spec.commandLine().getErr().flush();
      Path dir = ModelCatalog.importGguf(file, name);
      spec.commandLine().getOut().println(dir);
      spec.commandLine().getOut().flush();
      return 0;
    }
  }
}
