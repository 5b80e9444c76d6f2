package dev.whet.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.model.ModelRef.Kind;
import dev.whet.server.LoadedModels.BatchedModel;
import dev.whet.server.LoadedModels.Input;
import dev.whet.server.LoadedModels.Op;
import dev.whet.server.LoadedModels.Output;
import io.javalin.http.Context;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code POST /v1/embeddings}, {@code POST /v1/whet/classify} and {@code POST /v1/whet/entities}:
 * micro-batched encoder work.
 */
final class EncoderEndpoints {
  private final InferenceRoutes routes;

  EncoderEndpoints(InferenceRoutes routes) {
    this.routes = routes;
  }

  /**
   * OpenAI's embeddings: {@code {model, input: string|string[], encoding_format?: float|base64,
   * dimensions?}} → a list of {@code embedding} objects (base64: the little-endian float32 bytes).
   */
  void embeddings(Context ctx) {
    Caller caller = Caller.of(ctx);
    JsonNode body = Requests.object(ctx);
    String modelId = Requests.string(body, "model", null);
    List<String> texts = Requests.texts(body, "input", routes.options().maxInputs());
    String format = Requests.string(body, "encoding_format", "float");
    if (!format.equals("float") && !format.equals("base64")) {
      throw ApiError.invalid(
          "Invalid 'encoding_format': '" + format + "'; use 'float' or 'base64'.",
          "encoding_format");
    }
    long dimensions = Requests.integer(body, "dimensions", 0, 1, Integer.MAX_VALUE);
    Path dir = routes.resolve(caller, modelId, "/v1/embeddings", Kind.ENCODER, Kind.CLASSIFIER);
    List<Input> inputs = texts.stream().map(t -> new Input(Op.EMBED, t, null)).toList();
    List<Output> out =
        run(
            caller.project(),
            dir,
            modelId,
            inputs,
            m -> {
              if (dimensions != 0 && dimensions != m.dimensions()) {
                throw ApiError.invalid(
                    "Model '"
                        + modelId
                        + "' makes "
                        + m.dimensions()
                        + "-dimensional embeddings; 'dimensions' cannot change that.",
                    "dimensions");
              }
            });
    ObjectNode res = Requests.JSON.createObjectNode();
    res.put("object", "list");
    ArrayNode data = res.putArray("data");
    long tokens = 0;
    for (int i = 0; i < out.size(); i++) {
      ObjectNode e = data.addObject();
      e.put("object", "embedding");
      e.put("index", i);
      float[] v = out.get(i).values();
      if (format.equals("base64")) {
        ByteBuffer bytes = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(v);
        e.put("embedding", Base64.getEncoder().encodeToString(bytes.array()));
      } else {
        ArrayNode a = e.putArray("embedding");
        for (float x : v) {
          a.add(x);
        }
      }
      tokens += out.get(i).tokens();
    }
    res.put("model", modelId);
    usage(res, tokens);
    ctx.contentType("application/json").result(res.toString());
  }

  /**
   * Whet's classification: {@code {model, input: string|string[]}} (pair models: each input a
   * two-string array) → {@code {object:"list", model, data:[{object:"classification", index, label,
   * probs:{label: p}}], usage}}. Multi-label models answer {@code label} as the list of labels
   * whose probability is at least 0.5, as {@code whet predict} does.
   */
  void classify(Context ctx) {
    Caller caller = Caller.of(ctx);
    JsonNode body = Requests.object(ctx);
    String modelId = Requests.string(body, "model", null);
    Path dir = routes.resolve(caller, modelId, "/v1/whet/classify", Kind.CLASSIFIER);
    List<Input> inputs = new ArrayList<>();
    List<BatchedModel> seen = new ArrayList<>(1);
    List<Output> out =
        run(
            caller.project(),
            dir,
            modelId,
            inputs,
            m -> {
              seen.add(m);
              inputs.clear();
              inputs.addAll(classifyInputs(body, m.pairs()));
            });
    BatchedModel model = seen.get(seen.size() - 1);
    ObjectNode res = Requests.JSON.createObjectNode();
    res.put("object", "list");
    res.put("model", modelId);
    ArrayNode data = res.putArray("data");
    long tokens = 0;
    List<String> labels = model.labels();
    for (int i = 0; i < out.size(); i++) {
      float[] p = out.get(i).values();
      ObjectNode c = data.addObject();
      c.put("object", "classification");
      c.put("index", i);
      int best = 0;
      for (int j = 1; j < p.length; j++) {
        best = p[j] > p[best] ? j : best;
      }
      if (model.multiLabel()) {
        ArrayNode on = c.putArray("label");
        for (int j = 0; j < p.length; j++) {
          if (p[j] >= 0.5f) {
            on.add(labels.get(j));
          }
        }
      } else {
        c.put("label", labels.get(best));
      }
      ObjectNode probs = c.putObject("probs");
      for (int j = 0; j < p.length; j++) {
        probs.put(labels.get(j), p[j]);
      }
      tokens += out.get(i).tokens();
    }
    usage(res, tokens);
    ctx.contentType("application/json").result(res.toString());
  }

  /**
   * Whet's entity extraction with a token classifier: {@code {model, input: string|string[]}} →
   * {@code {object:"list", model, data:[{object:"entities", index, entities:[{type, text, start,
   * end, score}]}], usage}}; {@code start} and {@code end} count UTF-16 code units of the input, as
   * JavaScript's {@code String.slice} does.
   */
  void entities(Context ctx) {
    Caller caller = Caller.of(ctx);
    JsonNode body = Requests.object(ctx);
    String modelId = Requests.string(body, "model", null);
    List<String> texts = Requests.texts(body, "input", routes.options().maxInputs());
    Path dir = routes.resolve(caller, modelId, "/v1/whet/entities", Kind.TAGGER);
    List<Input> inputs = texts.stream().map(t -> new Input(Op.TAG, t, null)).toList();
    List<Output> out = run(caller.project(), dir, modelId, inputs, m -> {});
    ObjectNode res = Requests.JSON.createObjectNode();
    res.put("object", "list");
    res.put("model", modelId);
    ArrayNode data = res.putArray("data");
    long tokens = 0;
    for (int i = 0; i < out.size(); i++) {
      ObjectNode item = data.addObject();
      item.put("object", "entities");
      item.put("index", i);
      ArrayNode entities = item.putArray("entities");
      for (var e : out.get(i).tagged().entities()) {
        ObjectNode o = entities.addObject();
        o.put("type", e.type());
        o.put("text", e.text());
        o.put("start", e.start());
        o.put("end", e.end());
        o.put("score", e.score());
      }
      tokens += out.get(i).tokens();
    }
    usage(res, tokens);
    ctx.contentType("application/json").result(res.toString());
  }

  private List<Input> classifyInputs(JsonNode body, boolean pairs) {
    int max = routes.options().maxInputs();
    if (!pairs) {
      return Requests.texts(body, "input", max).stream()
          .map(t -> new Input(Op.CLASSIFY, t, null))
          .toList();
    }
    // A pair model: one [text, text] array, or an array of them.
    if (Requests.absent(body, "input")) {
      throw ApiError.invalid("Missing required parameter: 'input'.", "input");
    }
    JsonNode n = body.get("input");
    List<JsonNode> items = new ArrayList<>();
    if (n.isArray() && n.size() == 2 && n.get(0).isTextual()) {
      items.add(n);
    } else if (n.isArray()) {
      n.forEach(items::add);
    }
    if (items.isEmpty()) {
      throw ApiError.invalid(
          "This model classifies text pairs: 'input' must be [\"first\", \"second\"] or an array"
              + " of such pairs.",
          "input");
    }
    if (items.size() > max) {
      throw ApiError.invalid(
          "'input' has " + items.size() + " items; at most " + max + " are allowed per request.",
          "input");
    }
    List<Input> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      JsonNode p = items.get(i);
      if (!p.isArray()
          || p.size() != 2
          || !p.get(0).isTextual()
          || !p.get(1).isTextual()
          || p.get(0).asText().isEmpty()
          || p.get(1).asText().isEmpty()) {
        throw ApiError.invalid(
            "Invalid 'input[" + i + "]': expected a pair of two non-empty strings.", "input");
      }
      out.add(new Input(Op.CLASSIFY, p.get(0).asText(), p.get(1).asText()));
    }
    return out;
  }

  /**
   * Runs inputs through the model's batcher; {@code check} sees the loaded model first (and may
   * fill in the inputs from what it learns about the model).
   */
  private List<Output> run(
      String project, Path dir, String modelId, List<Input> inputs, Consumer<BatchedModel> check) {
    try {
      return routes
          .models()
          .with(
              dir,
              served -> {
                BatchedModel m = (BatchedModel) served;
                check.accept(m);
                try {
                  return m.run(project, inputs);
                } catch (RuntimeException e) {
                  throw e;
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
    } catch (MicroBatcher.Overloaded e) {
      throw InferenceRoutes.overloaded(e.getMessage());
    } catch (ApiError | MicroBatcher.Closed e) {
      throw e;
    } catch (dev.whet.WhetException e) {
      throw InferenceRoutes.loadFailure(modelId, e);
    }
  }

  static void usage(ObjectNode res, long promptTokens) {
    ObjectNode u = res.putObject("usage");
    u.put("prompt_tokens", promptTokens);
    u.put("total_tokens", promptTokens);
  }
}
