package dev.whet.server;

import dev.whet.io.DiskFiles;
import dev.whet.io.ModelCatalog;
import dev.whet.model.LlamaConfig;
import dev.whet.model.ModelRef;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code /v1/models}: the base models this server has (built-in and those under {@code
 * WHET_HOME/models}) and the caller's fine-tuned models, as OpenAI {@code model} objects; a
 * fine-tuned model can be deleted by its project.
 */
final class ModelRoutes implements Routes {
  private final Store store;
  private final ModelResolver models;

  ModelRoutes(Store store, ModelResolver models) {
    this.store = store;
    this.models = models;
  }

  @Override
  public void register(Javalin app) {
    app.get("/v1/models", this::list);
    app.get("/v1/models/{id}", this::retrieve);
    app.delete("/v1/models/{id}", this::delete);
    app.get("/v1/whet/models/{id}/download", this::download);
  }

  /**
   * A fine-tuned model's directory as a zip in Hugging Face layout (config.json, weights,
   * tokenizer, and the sentence-transformers or adapter files where the model has them), to load
   * elsewhere. Base models are not offered: they come from their own registries.
   */
  void download(Context ctx) throws IOException {
    Caller caller = Caller.of(ctx);
    String id = ctx.pathParam("id");
    if (!ModelResolver.isFineTuned(id)) {
      models.resolve(caller, id); // 404 for what does not exist
      throw ApiError.invalid(
          "'" + id + "' is a base model; only fine-tuned models are downloaded here.", "id");
    }
    // A checkpoint is exported on first use; a model is its run's model/ as saved (a LoRA SFT
    // run's is the adapter, in PEFT layout).
    Path dir =
        ModelResolver.checkpointStep(id) >= 0
            ? models.resolve(caller, id)
            : Path.of(models.fineTuned(caller, id).runDir()).resolve("model");
    if (!Files.isDirectory(dir)) {
      throw ApiError.notFound("model", id);
    }
    List<Path> files;
    try (var walk = Files.walk(dir)) {
      files = walk.filter(Files::isRegularFile).sorted().toList();
    }
    String name = id.replaceAll("[^A-Za-z0-9._-]", "_");
    ctx.contentType("application/zip");
    ctx.header("Content-Disposition", "attachment; filename=\"" + name + ".zip\"");
    try (var zip = new java.util.zip.ZipOutputStream(ctx.outputStream())) {
      for (Path f : files) {
        // Inside a folder named after the model, '/' separated whatever the server's OS.
        String entry = name + "/" + dir.relativize(f).toString().replace('\\', '/');
        zip.putNextEntry(new java.util.zip.ZipEntry(entry));
        Files.copy(f, zip);
        zip.closeEntry();
      }
    }
  }

  void list(Context ctx) {
    Caller caller = Caller.of(ctx);
    List<Map<String, Object>> data = new ArrayList<>();
    for (ModelCatalog.Entry e : ModelCatalog.list()) {
      Map<String, Object> m = object(e.name(), 0, "whet", baseKind(e));
      // Whether the job must first fetch the base, and from where: the form says so up front.
      @SuppressWarnings("unchecked")
      Map<String, Object> whet = (Map<String, Object>) m.get("whet");
      whet.put("ready", e.ready());
      if (!e.ready()) whet.put("source", e.source()); // Maven coordinates; never a server path
      whet.put("parameters", e.parameters());
      data.add(m);
    }
    for (Store.Job j : store.fineTunedModels(caller.project())) {
      data.add(object(j.fineTunedModel(), j.finishedAt(), caller.project(), tunedKind(j)));
    }
    ctx.json(Http.list(data, false));
  }

  void retrieve(Context ctx) {
    Caller caller = Caller.of(ctx);
    String id = ctx.pathParam("id");
    if (ModelResolver.isFineTuned(id)) {
      Store.Job j = models.fineTuned(caller, id);
      ctx.json(object(id, j.finishedAt(), caller.project(), tunedKind(j)));
      return;
    }
    Path dir = models.resolve(caller, id);
    ctx.json(object(id, 0, "whet", kindName(LoadedModels.kindOf(dir))));
  }

  void delete(Context ctx) throws IOException {
    Caller caller = Caller.of(ctx);
    String id = ctx.pathParam("id");
    if (!ModelResolver.isFineTuned(id)) {
      models.resolve(caller, id); // 404 for what does not exist
      throw new ApiError(
          403,
          "invalid_request_error",
          "'" + id + "' is a base model; only your fine-tuned models can be deleted.",
          "model",
          "model_not_deletable");
    }
    Store.Job j = models.fineTuned(caller, id);
    store.markModelDeleted(caller.project(), j.id());
    Path dir = Path.of(j.runDir()).resolve("model");
    models.deleting(dir); // out of the inference cache before its files go
    DiskFiles.delete(dir);
    // Its checkpoints are versions of the same model: they go with it.
    for (Path checkpoint : new dev.whet.train.RunDir(Path.of(j.runDir())).checkpoints()) {
      DiskFiles.delete(checkpoint);
    }
    Path exported = Path.of(j.runDir()).resolve("exported");
    if (Files.isDirectory(exported)) {
      try (var dirs = Files.list(exported)) {
        dirs.forEach(models::deleting);
      }
      DiskFiles.delete(exported);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", id);
    out.put("object", "model");
    out.put("deleted", true);
    ctx.json(out);
  }

  /**
   * OpenAI's {@code model} object, plus {@code whet.kind} ({@code encoder}, {@code classifier} or
   * {@code decoder}): which inference endpoint serves it, so clients (the dashboard) need not
   * guess.
   */
  static Map<String, Object> object(String id, long created, String ownedBy, String kind) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id);
    m.put("object", "model");
    m.put("created", created);
    m.put("owned_by", ownedBy);
    Map<String, Object> whet = new LinkedHashMap<>();
    whet.put("kind", kind);
    m.put("whet", whet);
    return m;
  }

  /** A base in the catalog, from its config's model_type (it may not be imported yet). */
  private static String baseKind(ModelCatalog.Entry e) {
    return LlamaConfig.SUPPORTED.contains(e.architecture()) ? "decoder" : "encoder";
  }

  private static String tunedKind(Store.Job j) {
    Path dir = Path.of(j.runDir()).resolve("model");
    return Files.isDirectory(dir) ? kindName(LoadedModels.kindOf(dir)) : "unknown";
  }

  private static String kindName(ModelRef.Kind kind) {
    return kind.name().toLowerCase(Locale.ROOT);
  }
}
