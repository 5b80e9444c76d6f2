package dev.whet.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.whet.WhetException;
import dev.whet.io.ModelCatalog;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 17, item 6: one resolver for model references, and one reading of a directory's kind. */
class ModelRefTest {
  @TempDir Path home;

  @BeforeEach
  void isolate() {
    System.setProperty("whet.home", home.toString());
  }

  @AfterEach
  void restore() {
    System.clearProperty("whet.home");
  }

  static Path model(Path dir, String config, String whet) throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("config.json"), config);
    if (whet != null) Files.writeString(dir.resolve("whet.json"), whet);
    return dir;
  }

  @Test
  void runsDirectoriesAndNamesResolveToTheirModel() throws Exception {
    Path run = home.resolve("runs").resolve("run-1");
    Files.createDirectories(run);
    Files.writeString(run.resolve("job.yaml"), "task: classify\n");
    Path classifier =
        model(run.resolve("model"), "{\"model_type\": \"bert\"}", "{\"task\": \"classify\"}");

    ModelRef byDir = ModelRef.resolve(run.toString());
    assertEquals(classifier, byDir.dir());
    assertEquals(ModelRef.Kind.CLASSIFIER, byDir.kind());
    assertEquals(classifier, ModelRef.resolve("run-1").dir(), "a run id under WHET_HOME/runs");
    assertEquals(run, ModelRef.runOf(classifier));

    Path decoder = model(home.resolve("llama"), "{\"model_type\": \"llama\"}", null);
    assertEquals(ModelRef.Kind.DECODER, ModelRef.resolve(decoder.toString()).kind());
    assertNull(ModelRef.runOf(decoder), "a bare model has no run");

    Path adapter = Files.createDirectories(home.resolve("adapter"));
    Files.writeString(adapter.resolve("adapter_config.json"), "{}");
    assertEquals(ModelRef.Kind.DECODER, ModelRef.resolve(adapter.toString()).kind());

    Path encoder = model(home.resolve("enc"), "{\"model_type\": \"roberta\"}", null);
    assertEquals(ModelRef.Kind.ENCODER, ModelRef.of(encoder).kind());
    Path tagger = model(home.resolve("ner"), "{\"model_type\": \"bert\"}", "{\"task\": \"ner\"}");
    assertEquals(ModelRef.Kind.TAGGER, ModelRef.of(tagger).kind());
    Path other =
        model(home.resolve("other"), "{\"model_type\": \"bert\"}", "{\"task\": \"ranking\"}");
    assertEquals(ModelRef.Kind.OTHER, ModelRef.of(other).kind());

    ModelRef builtIn = ModelRef.resolve(ModelCatalog.DEFAULT);
    assertEquals(ModelCatalog.resolve(ModelCatalog.DEFAULT), builtIn.dir());
    assertEquals(ModelRef.Kind.ENCODER, builtIn.kind());
    assertThrows(WhetException.class, () -> ModelRef.resolve(home.resolve("nothing").toString()));
  }
}
