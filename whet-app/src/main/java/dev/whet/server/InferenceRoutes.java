package dev.whet.server;

import dev.whet.WhetException;
import dev.whet.model.ModelRef;
import io.javalin.Javalin;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BiFunction;

/**
 * The inference endpoints: embeddings and classification (micro-batched across callers) and text
 * generation (one request at a time per model), all in OpenAI's shapes. Models are found through
 * the resolver (which scopes fine-tuned ids to the caller's project) and kept loaded in a bounded
 * LRU cache.
 */
public final class InferenceRoutes implements Routes, AutoCloseable {
  /**
   * Limits of the inference endpoints.
   *
   * @param maxModels models kept in memory at once (least recently used unloaded first)
   * @param maxBatch most inputs per forward pass of an encoder or classifier
   * @param maxWait how long a request waits for others to share its batch
   * @param maxQueued most inputs waiting per model before requests are refused with 503
   * @param maxInputs most inputs in one request
   */
  public record Options(
      int maxModels, int maxBatch, Duration maxWait, int maxQueued, int maxInputs) {
    public static final Options DEFAULT = new Options(4, 32, Duration.ofMillis(2), 4096, 2048);
  }

  private final BiFunction<Caller, String, Path> resolver;
  private final Options options;
  private final LoadedModels models;
  private final EncoderEndpoints encoders;
  private final CompletionEndpoints chats;
  private final Store completions;

  /**
   * @param resolver a model id as the caller wrote it → the model directory; throws {@link
   *     ApiError#notFound} for ids the caller may not see
   */
  public InferenceRoutes(BiFunction<Caller, String, Path> resolver) {
    this(resolver, Options.DEFAULT);
  }

  /**
   * Routes over a server's resolver: its fine-tuned models, and unloading a model when {@code
   * DELETE /v1/models/{id}} deletes it.
   */
  public InferenceRoutes(ModelResolver models) {
    this(models, Options.DEFAULT);
  }

  public InferenceRoutes(ModelResolver models, Options options) {
    this(models::resolve, options, models.store());
    models.onDelete(this::unload);
  }

  public InferenceRoutes(BiFunction<Caller, String, Path> resolver, Options options) {
    this(resolver, options, null);
  }

  /**
   * @param completions where chat completions are recorded for users' feedback ({@link
   *     FeedbackRoutes}), or null for none
   */
  private InferenceRoutes(
      BiFunction<Caller, String, Path> resolver, Options options, Store completions) {
    this.resolver = resolver;
    this.completions = completions;
    this.options = options;
    this.models =
        new LoadedModels(
            options.maxModels(),
            new LoadedModels.Batching(
                options.maxBatch(),
                options.maxWait(),
                Math.max(options.maxQueued(), options.maxInputs()),
                Duration.ofSeconds(60)));
    this.encoders = new EncoderEndpoints(this);
    this.chats = new CompletionEndpoints(this);
  }

  /** Every inference route, in one place. */
  @Override
  public void register(Javalin app) {
    app.post("/v1/embeddings", encoders::embeddings);
    app.post("/v1/whet/classify", encoders::classify);
    app.post("/v1/whet/entities", encoders::entities);
    app.post("/v1/chat/completions", chats::chat);
    app.post("/v1/completions", chats::complete);
  }

  /** Unloads a model (e.g. after its directory was deleted); a later request loads it again. */
  public void unload(Path modelDir) {
    models.unload(modelDir);
  }

  Options options() {
    return options;
  }

  /** Records a chat completion served to {@code caller}, so that its users can rate it. */
  void served(Caller caller, String id, String model, String messagesJson, String reply) {
    if (completions != null) {
      completions.insertCompletion(
          new Store.Completion(id, caller.project(), model, messagesJson, reply, Store.now()));
    }
  }

  LoadedModels models() {
    return models;
  }

  /**
   * The directory of {@code modelId} for this caller, checked to hold a model of one of {@code
   * kinds}; a wrong kind is a 400 that says which endpoint serves it.
   */
  Path resolve(Caller caller, String modelId, String endpoint, ModelRef.Kind... kinds) {
    Path dir = resolver.apply(caller, modelId);
    ModelRef.Kind kind;
    try {
      kind = LoadedModels.kindOf(dir);
    } catch (WhetException e) {
      throw new ApiError(
          500,
          "server_error",
          "Model '" + modelId + "' cannot be read: " + e.getMessage(),
          "model",
          "model_unreadable");
    }
    for (ModelRef.Kind k : kinds) {
      if (k == kind) {
        return dir;
      }
    }
    String use =
        switch (kind) {
          case DECODER -> "; use /v1/chat/completions or /v1/completions with it";
          case ENCODER -> "; use /v1/embeddings with it";
          case CLASSIFIER -> "; use /v1/whet/classify or /v1/embeddings with it";
          case TAGGER -> "; use /v1/whet/entities with it";
          case OTHER -> "";
        };
    throw ApiError.invalid(
        "Model '"
            + modelId
            + "' is "
            + kind.description()
            + ", which "
            + endpoint
            + " does not serve"
            + use
            + ".",
        "model",
        "model_not_supported");
  }

  /** A model failed to load: the message says why, without a stack trace. */
  static ApiError loadFailure(String modelId, RuntimeException e) {
    if (e instanceof ApiError a) {
      return a;
    }
    return new ApiError(
        500,
        "server_error",
        "Model '" + modelId + "' could not be loaded: " + e.getMessage(),
        "model",
        "model_load_failed");
  }

  /** 503 for a full queue (clients retry it). */
  static ApiError overloaded(String message) {
    return new ApiError(
        503, "server_error", "The server is overloaded: " + message, null, "overloaded");
  }

  @Override
  public void close() {
    models.close();
  }
}
