package dev.whet.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.io.ModelCatalog;
import dev.whet.model.ClassifierModel;
import dev.whet.model.TinyBert;
import io.javalin.Javalin;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A Javalin server with only the inference routes, on a free loopback port: a {@code before} filter
 * stands in for the backbone's auth (any bearer key is project "p1"), and a map of model ids stands
 * in for its resolver. Also builds the models the tests use, once per JVM.
 */
final class InferenceFixture implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path RESOURCES = Path.of("../whet-core/src/test/resources/models");

  /** Models shared by the server tests, built once (a temp WHET_HOME for the built-in import). */
  static final class Models {
    final Path minilm;
    final Path tinyClassifier;
    final Path tinyMultiLabel;
    final Path tinyTagger;
    final Path stories;
    final Path storiesChat;

    /** A WHET_HOME with minilm-l6 imported and the chat-template copy of TinyStories. */
    final Path home;

    private Models() throws IOException {
      Path root = Files.createTempDirectory("whet-infer-test");
      home = root.resolve("home");
      String previous = System.getProperty("whet.home");
      System.setProperty("whet.home", home.toString());
      try {
        minilm = ModelCatalog.resolve("minilm-l6").toAbsolutePath();
      } finally {
        if (previous == null) {
          System.clearProperty("whet.home");
        } else {
          System.setProperty("whet.home", previous);
        }
      }
      Path tiny = TinyBert.create(root.resolve("tiny-bert"), 7);
      tinyClassifier =
          classifier(tiny, root.resolve("tiny-clf"), "classify", List.of("neg", "pos"));
      tinyMultiLabel =
          classifier(tiny, root.resolve("tiny-multi"), "multilabel", List.of("a", "b", "c"));
      tinyTagger =
          classifier(
              tiny,
              root.resolve("tiny-tagger"),
              "tokens",
              List.of("O", "B-PER", "I-PER", "B-LOC", "I-LOC"));
      stories = RESOURCES.resolve("TinyStories-656K-hf").toAbsolutePath();
      storiesChat = home.resolve("models/stories-chat");
      Files.createDirectories(storiesChat);
      for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) {
        Files.copy(stories.resolve(f), storiesChat.resolve(f));
      }
      // TinyStories has no chat template; a minimal one: the story so far, user turns verbatim.
      Files.writeString(
          storiesChat.resolve("tokenizer_config.json"),
          "{\"eos_token\": \"<|end_story|>\", \"chat_template\": \"<|start_story|>{% for m in"
              + " messages %}{{ m['content'] }}{% endfor %}\"}");
    }

    private static Path classifier(Path base, Path dir, String task, List<String> labels) {
      try (ClassifierModel m =
          ClassifierModel.fromBase(
              base, task, labels, 64, 0, 0, null, null, Map.of("base", base.toString()))) {
        m.save(dir, Map.of());
      }
      return dir.toAbsolutePath();
    }

    private static Models instance;

    static synchronized Models get() throws IOException {
      if (instance == null) {
        instance = new Models();
      }
      return instance;
    }
  }

  final Javalin app;
  final InferenceRoutes routes;
  final String base;
  final HttpClient http = HttpClient.newHttpClient();

  InferenceFixture(Map<String, Path> models, InferenceRoutes.Options options) {
    routes =
        new InferenceRoutes(
            (caller, id) -> {
              Path p = caller.project().equals("p1") ? models.get(id) : null;
              if (p == null) {
                throw ApiError.notFound("model", id);
              }
              return p;
            },
            options);
    app =
        Javalin.create(config -> config.useVirtualThreads = true) // as WhetServer does
            .before(
                ctx -> {
                  String auth = ctx.header("Authorization");
                  if (auth != null && auth.startsWith("Bearer ")) {
                    new Caller("p1", "key-1").attachTo(ctx);
                  }
                })
            .exception(ApiError.class, (e, ctx) -> ctx.status(e.status()).json(e.body()))
            .exception(
                Exception.class,
                (e, ctx) ->
                    ctx.status(500)
                        .json(ApiError.body("internal error: " + e, "server_error", null, null)));
    routes.register(app);
    app.start("127.0.0.1", 0);
    base = "http://127.0.0.1:" + app.port();
  }

  /** The server's answer: status and body. */
  record Answer(int status, String body, String contentType) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + body, e);
      }
    }
  }

  Answer post(String path, String body) throws IOException, InterruptedException {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(base + path))
                .header("Authorization", "Bearer test")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return new Answer(r.statusCode(), r.body(), r.headers().firstValue("Content-Type").orElse(""));
  }

  Answer post(String path, Object body) throws IOException, InterruptedException {
    return post(path, JSON.writeValueAsString(body));
  }

  @Override
  public void close() {
    app.stop();
    routes.close();
  }
}
