package dev.whet.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.WhetException;
import dev.whet.infer.GenerationOptions;
import dev.whet.infer.Generator;
import dev.whet.infer.LanguageModel;
import dev.whet.io.ChatTemplate;
import dev.whet.model.ModelRef.Kind;
import dev.whet.server.LoadedModels.DecoderModel;
import io.javalin.http.Context;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * {@code POST /v1/chat/completions} and {@code POST /v1/completions} for decoders, in OpenAI's
 * shapes, with {@code stream: true} answered as server-sent events. Generation runs on the model's
 * own thread, one request at a time per model (decoders are not batched); the request's thread
 * waits for it and writes the answer.
 */
final class CompletionEndpoints {
  /** The default {@code max_tokens} of a text completion, as OpenAI's. */
  private static final int COMPLETION_DEFAULT_TOKENS = 16;

  /** Cap of the default length of a chat reply (otherwise: whatever fits the context). */
  private static final int CHAT_DEFAULT_CAP = 4096;

  private final InferenceRoutes routes;

  CompletionEndpoints(InferenceRoutes routes) {
    this.routes = routes;
  }

  /** What both endpoints read from the request besides the prompt. */
  private record Params(
      String modelId,
      Integer maxTokens,
      double temperature,
      double topP,
      List<String> stop,
      long seed,
      boolean stream,
      boolean includeUsage) {

    GenerationOptions options(int maxTokens) {
      return new GenerationOptions(maxTokens, temperature, 0, topP, 1, stop, seed);
    }
  }

  private static Params params(JsonNode body, boolean chat) {
    String modelId = Requests.string(body, "model", null);
    long n = Requests.integer(body, "n", 1, 1, 128);
    if (n != 1) {
      throw ApiError.invalid("Only n=1 is supported: one choice per request.", "n");
    }
    Integer maxTokens = null;
    for (String f : chat ? List.of("max_completion_tokens", "max_tokens") : List.of("max_tokens")) {
      if (maxTokens == null && !Requests.absent(body, f)) {
        maxTokens = (int) Requests.integer(body, f, 0, 1, 1 << 20);
      }
    }
    double temperature = Requests.number(body, "temperature", 1, 0, 2);
    double topP = Requests.number(body, "top_p", 1, Double.MIN_VALUE, 1);
    if (!Requests.absent(body, "top_p") && body.get("top_p").asDouble() == 0) {
      throw ApiError.invalid("Invalid 'top_p': must be greater than 0.", "top_p");
    }
    List<String> stop = Requests.stops(body);
    long seed =
        Requests.integer(
            body, "seed", ThreadLocalRandom.current().nextLong(), Long.MIN_VALUE, Long.MAX_VALUE);
    boolean stream = Requests.bool(body, "stream", false);
    boolean includeUsage = false;
    if (!Requests.absent(body, "stream_options")) {
      JsonNode o = body.get("stream_options");
      if (!o.isObject()) {
        throw ApiError.invalid("Invalid 'stream_options': expected an object.", "stream_options");
      }
      includeUsage = Requests.bool(o, "include_usage", false);
    }
    if (!chat) {
      if (Requests.bool(body, "echo", false)) {
        throw ApiError.invalid("'echo' is not supported.", "echo");
      }
      if (!Requests.absent(body, "suffix")) {
        throw ApiError.invalid("'suffix' is not supported.", "suffix");
      }
      if (Requests.integer(body, "best_of", 1, 1, 128) != 1) {
        throw ApiError.invalid("Only best_of=1 is supported.", "best_of");
      }
    }
    if (!Requests.absent(body, "logprobs")
        && !(body.get("logprobs").isBoolean() && !body.get("logprobs").asBoolean())) {
      throw ApiError.invalid("'logprobs' is not supported.", "logprobs");
    }
    return new Params(modelId, maxTokens, temperature, topP, stop, seed, stream, includeUsage);
  }

  /** OpenAI's chat completions: the messages rendered with the model's chat template. */
  void chat(Context ctx) {
    Caller caller = Caller.of(ctx);
    JsonNode body = Requests.object(ctx);
    Params p = params(body, true);
    List<ChatTemplate.Message> messages = messages(body);
    Path dir = routes.resolve(caller, p.modelId(), "/v1/chat/completions", Kind.DECODER);
    String asked = Feedback.messagesJson(messages);
    generate(
        ctx,
        dir,
        p,
        true,
        (id, c) -> routes.served(caller, id, p.modelId(), asked, c.text()),
        lm -> {
          if (lm.chatTemplate() == null) {
            throw ApiError.invalid(
                "Model '"
                    + p.modelId()
                    + "' has no chat template (tokenizer_config.json's chat_template), so it"
                    + " cannot chat; use /v1/completions with a plain prompt.",
                "model",
                "model_not_supported");
          }
          try {
            return lm.chatPrompt(messages);
          } catch (WhetException e) {
            throw ApiError.invalid(e.getMessage(), "messages");
          }
        });
  }

  /** OpenAI's (legacy) text completions: the prompt as the tokenizer encodes it. */
  void complete(Context ctx) {
    Caller caller = Caller.of(ctx);
    JsonNode body = Requests.object(ctx);
    Params p = params(body, false);
    String prompt = prompt(body);
    Path dir = routes.resolve(caller, p.modelId(), "/v1/completions", Kind.DECODER);
    generate(
        ctx,
        dir,
        p,
        false,
        (id, c) -> {}, // feedback is on chat completions
        lm -> {
          if (prompt.isEmpty()) {
            return lm.bosPrompt();
          }
          int n = lm.tokenizer().countTokens(prompt);
          if (n > lm.config().maxContext()) {
            throw contextExceeded(lm, n);
          }
          return lm.prompt(prompt);
        });
  }

  private static String prompt(JsonNode body) {
    if (Requests.absent(body, "prompt")) {
      throw ApiError.invalid("Missing required parameter: 'prompt'.", "prompt");
    }
    JsonNode n = body.get("prompt");
    if (n.isArray() && n.size() == 1 && n.get(0).isTextual()) {
      return n.get(0).asText();
    }
    if (!n.isTextual()) {
      throw ApiError.invalid(
          "Invalid 'prompt': expected a string (one prompt per request), got "
              + Requests.type(n)
              + ".",
          "prompt");
    }
    return n.asText();
  }

  private static List<ChatTemplate.Message> messages(JsonNode body) {
    if (Requests.absent(body, "messages")) {
      throw ApiError.invalid("Missing required parameter: 'messages'.", "messages");
    }
    JsonNode n = body.get("messages");
    if (!n.isArray() || n.isEmpty()) {
      throw ApiError.invalid("'messages' must be a non-empty array of messages.", "messages");
    }
    List<ChatTemplate.Message> out = new ArrayList<>();
    for (int i = 0; i < n.size(); i++) {
      JsonNode m = n.get(i);
      String where = "messages[" + i + "]";
      if (!m.isObject()) {
        throw ApiError.invalid("Invalid '" + where + "': expected an object.", "messages");
      }
      String role = m.path("role").asText("");
      role =
          switch (role) {
            case "system", "developer" -> "system";
            case "user", "assistant" -> role;
            default ->
                throw ApiError.invalid(
                    "Invalid '"
                        + where
                        + ".role': '"
                        + role
                        + "'; use system, developer, user or assistant.",
                    "messages");
          };
      out.add(new ChatTemplate.Message(role, content(m.get("content"), where)));
    }
    return out;
  }

  /** A message's content: a string, or an array of {@code {type: "text", text}} parts. */
  private static String content(JsonNode c, String where) {
    if (c == null || c.isNull()) {
      return "";
    }
    if (c.isTextual()) {
      return c.asText();
    }
    if (c.isArray()) {
      StringBuilder s = new StringBuilder();
      for (JsonNode part : c) {
        if (!part.path("type").asText().equals("text") || !part.path("text").isTextual()) {
          throw ApiError.invalid(
              "Invalid '" + where + ".content': only text parts are supported.", "messages");
        }
        s.append(part.get("text").asText());
      }
      return s.toString();
    }
    throw ApiError.invalid(
        "Invalid '" + where + ".content': expected a string or an array of text parts.",
        "messages");
  }

  private static ApiError contextExceeded(LanguageModel lm, int promptTokens) {
    return ApiError.invalid(
        "The prompt has "
            + promptTokens
            + " tokens, more than the model's context of "
            + lm.config().maxContext()
            + "; shorten it.",
        "messages",
        "context_length_exceeded");
  }

  /** Marks, in a stream's event queue, that the prompt was accepted and text will follow. */
  private static final Object STARTED = new Object();

  /** The end of a generation, in a stream's event queue. */
  private record End(Generator.Completion completion, Throwable error) {}

  /**
   * Builds the prompt and generates on the model's thread; this request's thread answers: one JSON
   * object, or a stream of chunks fed through a queue as the text is produced.
   *
   * @param answered told of each completion answered in full, with its id
   */
  private void generate(
      Context ctx,
      Path dir,
      Params p,
      boolean chat,
      BiConsumer<String, Generator.Completion> answered,
      Function<LanguageModel, long[]> prompt) {
    String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
    long created = System.currentTimeMillis() / 1000;
    BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    AtomicBoolean clientGone = new AtomicBoolean();
    CompletableFuture<Generator.Completion> done;
    try {
      done =
          routes
              .models()
              .with(
                  dir,
                  served ->
                      ((DecoderModel) served)
                          .submit(
                              lm -> {
                                long[] ids = prompt.apply(lm);
                                GenerationOptions options = p.options(maxTokens(lm, ids, p, chat));
                                Consumer<String> onText = null;
                                if (p.stream()) {
                                  events.add(STARTED);
                                  onText =
                                      piece -> {
                                        if (clientGone.get()) {
                                          throw new CancellationException("the client left");
                                        }
                                        events.add(piece);
                                      };
                                }
                                return lm.generator().generate(ids, options, onText);
                              }));
    } catch (MicroBatcher.Overloaded e) {
      throw InferenceRoutes.overloaded(e.getMessage());
    } catch (WhetException e) {
      throw InferenceRoutes.loadFailure(p.modelId(), e);
    }
    done.whenComplete((c, t) -> events.add(new End(c, t)));
    if (!p.stream()) {
      End end = (End) take(events);
      if (end.error() != null) {
        throw failure(p, end.error());
      }
      ctx.contentType("application/json")
          .result(answer(end.completion(), p, chat, id, created).toString());
      answered.accept(id, end.completion());
      return;
    }
    Object first = take(events);
    if (first instanceof End end) {
      throw failure(p, end.error()); // refused before any text: an ordinary error answer
    }
    Generator.Completion streamed = stream(ctx, events, clientGone, p, chat, id, created);
    if (streamed != null) {
      answered.accept(id, streamed);
    }
  }

  private static int maxTokens(LanguageModel lm, long[] ids, Params p, boolean chat) {
    int context = lm.config().maxContext();
    if (ids.length >= context) {
      throw contextExceeded(lm, ids.length);
    }
    int room = context - ids.length;
    if (p.maxTokens() != null) {
      return Math.min(p.maxTokens(), room);
    }
    return Math.min(room, chat ? CHAT_DEFAULT_CAP : COMPLETION_DEFAULT_TOKENS);
  }

  private static Object take(BlockingQueue<Object> events) {
    try {
      return events.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiError(503, "server_error", "The request was interrupted.", null, null);
    }
  }

  /** What a failed generation answers. */
  private static RuntimeException failure(Params p, Throwable t) {
    while ((t instanceof java.util.concurrent.CompletionException
            || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof ApiError a) {
      return a;
    }
    if (t instanceof WhetException w) {
      return new ApiError(
          500,
          "server_error",
          "Generation with '" + p.modelId() + "' failed: " + w.getMessage(),
          null,
          "generation_failed");
    }
    if (t instanceof RuntimeException r) {
      return r;
    }
    return new IllegalStateException(t);
  }

  private static ObjectNode answer(
      Generator.Completion c, Params p, boolean chat, String id, long created) {
    ObjectNode res = Requests.JSON.createObjectNode();
    res.put("id", id);
    res.put("object", chat ? "chat.completion" : "text_completion");
    res.put("created", created);
    res.put("model", p.modelId());
    ObjectNode choice = res.putArray("choices").addObject();
    choice.put("index", 0);
    if (chat) {
      ObjectNode m = choice.putObject("message");
      m.put("role", "assistant");
      m.put("content", c.text());
      m.putNull("refusal");
      m.putArray("annotations");
    } else {
      choice.put("text", c.text());
    }
    choice.putNull("logprobs");
    choice.put("finish_reason", c.finishReason());
    usage(res, c);
    return res;
  }

  private static void usage(ObjectNode res, Generator.Completion c) {
    ObjectNode u = res.putObject("usage");
    u.put("prompt_tokens", c.promptTokens());
    u.put("completion_tokens", c.tokens().length);
    u.put("total_tokens", c.promptTokens() + c.tokens().length);
  }

  /**
   * Streams the reply as {@code data: <chunk>} events, then {@code data: [DONE]}.
   *
   * @return the completion, or null when it failed or the client left
   */
  private static Generator.Completion stream(
      Context ctx,
      BlockingQueue<Object> events,
      AtomicBoolean clientGone,
      Params p,
      boolean chat,
      String id,
      long created) {
    try {
      Sse out = Sse.open(ctx);
      if (chat) {
        ObjectNode first = chunk(p, chat, id, created);
        ObjectNode delta = ((ObjectNode) first.withArray("choices").get(0)).putObject("delta");
        delta.put("role", "assistant");
        delta.put("content", "");
        out.send(first.toString());
      }
      while (true) {
        Object e = take(events);
        if (e instanceof String piece) {
          ObjectNode chunk = chunk(p, chat, id, created);
          ObjectNode choice = (ObjectNode) chunk.withArray("choices").get(0);
          if (chat) {
            choice.putObject("delta").put("content", piece);
          } else {
            choice.put("text", piece);
          }
          out.send(chunk.toString());
          continue;
        }
        End end = (End) e;
        if (end.error() != null) {
          // The status is already sent: report the failure in the stream, as OpenAI does.
          RuntimeException f = failure(p, end.error());
          String message = f instanceof ApiError ? f.getMessage() : "internal error";
          out.send(
              Requests.JSON
                  .valueToTree(ApiError.body(message, "server_error", null, null))
                  .toString());
          return null;
        }
        Generator.Completion c = end.completion();
        ObjectNode last = chunk(p, chat, id, created);
        ObjectNode choice = (ObjectNode) last.withArray("choices").get(0);
        if (chat) {
          choice.putObject("delta");
        } else {
          choice.put("text", "");
        }
        choice.put("finish_reason", c.finishReason());
        out.send(last.toString());
        if (p.includeUsage()) {
          ObjectNode u = Requests.JSON.createObjectNode();
          u.put("id", id);
          u.put("object", chat ? "chat.completion.chunk" : "text_completion");
          u.put("created", created);
          u.put("model", p.modelId());
          u.putArray("choices");
          usage(u, c);
          out.send(u.toString());
        }
        out.done();
        return c;
      }
    } catch (IOException e) {
      // The client went away: the generation stops at its next piece of text.
      clientGone.set(true);
      return null;
    }
  }

  private static ObjectNode chunk(Params p, boolean chat, String id, long created) {
    ObjectNode c = Requests.JSON.createObjectNode();
    c.put("id", id);
    c.put("object", chat ? "chat.completion.chunk" : "text_completion");
    c.put("created", created);
    c.put("model", p.modelId());
    ObjectNode choice = c.putArray("choices").addObject();
    choice.put("index", 0);
    choice.putNull("logprobs");
    choice.putNull("finish_reason");
    if (p.includeUsage()) {
      c.putNull("usage");
    }
    return c;
  }
}
