package dev.whet.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.WhetException;
import dev.whet.io.Json;
import dev.whet.io.Llama3RopeScaling;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields of a Hugging Face Llama-family {@code config.json} ({@code model_type} {@code llama},
 * {@code mistral}, {@code qwen2}) that the decoder needs. Stops at the builder: blocks get flat
 * arguments (STYLE.md).
 *
 * @param headDim width of one attention head ({@code head_dim}, else hidden / heads)
 * @param ropeScaling Llama-3-style frequency scaling, or null for plain RoPE
 * @param qkvBias q/k/v projections have a bias (qwen2 always; llama with {@code attention_bias})
 * @param oBias the output projection has a bias (llama with {@code attention_bias})
 * @param slidingWindow attention window in tokens, or 0 for none; Whet does not implement windowed
 *     attention, so contexts are capped at the window, where it equals full attention
 * @param eosTokenIds every id that ends generation ({@code eos_token_id} may be a list)
 */
public record LlamaConfig(
    String modelType,
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int layers,
    int heads,
    int kvHeads,
    int headDim,
    double rmsNormEps,
    double ropeTheta,
    Llama3RopeScaling ropeScaling,
    boolean tieWordEmbeddings,
    int maxPositions,
    int bosTokenId,
    List<Integer> eosTokenIds,
    boolean qkvBias,
    boolean oBias,
    int slidingWindow) {

  public static final List<String> SUPPORTED = List.of("llama", "mistral", "qwen2");

  public LlamaConfig {
    eosTokenIds = List.copyOf(eosTokenIds);
  }

  /** The longest sequence the model handles exactly (positions, and the sliding window if any). */
  public int maxContext() {
    return slidingWindow > 0 ? Math.min(maxPositions, slidingWindow) : maxPositions;
  }

  /** The same architecture with {@code n} layers (to time or test one layer of it). */
  public LlamaConfig withLayers(int n) {
    return new LlamaConfig(
        modelType,
        vocabSize,
        hiddenSize,
        intermediateSize,
        n,
        heads,
        kvHeads,
        headDim,
        rmsNormEps,
        ropeTheta,
        ropeScaling,
        tieWordEmbeddings,
        maxPositions,
        bosTokenId,
        eosTokenIds,
        qkvBias,
        oBias,
        slidingWindow);
  }

  /** Reads and checks {@code config.json}; every problem names the file and the field. */
  public static LlamaConfig read(Path configJson) {
    JsonNode c;
    try {
      c = Json.MAPPER.readTree(configJson.toFile());
    } catch (IOException e) {
      throw new WhetException(configJson + ": not valid JSON (" + e.getMessage() + ")", e);
    }
    if (c == null || !c.isObject()) {
      throw new WhetException(configJson + ": expected a JSON object");
    }
    return of(c, configJson);
  }

  /** Checks a parsed config; {@code source} names it in errors. */
  public static LlamaConfig of(JsonNode c, Path source) {
    String type = c.path("model_type").asText("");
    if (!SUPPORTED.contains(type)) {
      throw new WhetException(
          source
              + ": model_type '"
              + type
              + "' is not a supported decoder; supported: "
              + String.join(", ", SUPPORTED));
    }
    String act = c.path("hidden_act").asText("silu");
    if (!act.equals("silu")) {
      throw new WhetException(
          source + ": hidden_act '" + act + "' is not supported; Llama-family decoders use silu");
    }
    if (c.path("mlp_bias").asBoolean(false)) {
      throw new WhetException(source + ": mlp_bias true is not supported");
    }
    int hidden = reqInt(c, "hidden_size", source);
    int heads = reqInt(c, "num_attention_heads", source);
    int kvHeads = optInt(c, "num_key_value_heads", heads, source);
    int headDim = optInt(c, "head_dim", 0, source);
    if (headDim == 0) {
      if (hidden % heads != 0) {
        throw new WhetException(
            source + ": hidden_size " + hidden + " is not divisible by num_attention_heads");
      }
      headDim = hidden / heads;
    }
    if (heads % kvHeads != 0) {
      throw new WhetException(
          source
              + ": num_attention_heads "
              + heads
              + " is not a multiple of num_key_value_heads "
              + kvHeads);
    }
    if (headDim % 2 != 0) {
      throw new WhetException(source + ": head_dim " + headDim + " must be even for RoPE");
    }
    int maxPositions = optInt(c, "max_position_embeddings", 2048, source);
    boolean attentionBias = c.path("attention_bias").asBoolean(false);
    boolean qwen = type.equals("qwen2");
    int window = 0;
    JsonNode sw = c.path("sliding_window");
    boolean windowOn = !qwen || c.path("use_sliding_window").asBoolean(false);
    if (windowOn && sw.isNumber() && sw.asInt() < maxPositions) {
      window = sw.asInt();
    }
    List<Integer> eos = new ArrayList<>();
    JsonNode e = c.path("eos_token_id");
    if (e.isArray()) {
      e.forEach(x -> eos.add(x.asInt()));
    } else if (e.isNumber()) {
      eos.add(e.asInt());
    }
    return new LlamaConfig(
        type,
        reqInt(c, "vocab_size", source),
        hidden,
        reqInt(c, "intermediate_size", source),
        reqInt(c, "num_hidden_layers", source),
        heads,
        kvHeads,
        headDim,
        c.path("rms_norm_eps").asDouble(1e-6),
        c.path("rope_theta").asDouble(10000.0),
        ropeScaling(c.path("rope_scaling"), source),
        c.path("tie_word_embeddings").asBoolean(false),
        maxPositions,
        c.path("bos_token_id").isNumber() ? c.path("bos_token_id").asInt() : -1,
        eos,
        attentionBias || qwen,
        attentionBias && !qwen,
        window);
  }

  private static Llama3RopeScaling ropeScaling(JsonNode s, Path source) {
    if (s.isMissingNode() || s.isNull()) {
      return null;
    }
    String kind = s.path("rope_type").asText(s.path("type").asText(""));
    if (kind.equals("default")) {
      return null;
    }
    if (!kind.equals("llama3")) {
      throw new WhetException(
          source
              + ": rope_scaling type '"
              + kind
              + "' is not supported; Whet supports rope_scaling null or rope_type \"llama3\"");
    }
    for (String f :
        List.of(
            "factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings")) {
      if (!s.path(f).isNumber()) {
        throw new WhetException(source + ": rope_scaling." + f + " is missing or not a number");
      }
    }
    return new Llama3RopeScaling(
        s.path("factor").asDouble(),
        s.path("low_freq_factor").asDouble(),
        s.path("high_freq_factor").asDouble(),
        s.path("original_max_position_embeddings").asInt());
  }

  /** RoPE inverse frequencies, one per pair of dimensions, scaled as the config says. */
  public double[] inverseFrequencies() {
    double[] inv = new double[headDim / 2];
    for (int i = 0; i < inv.length; i++) {
      inv[i] = 1.0 / Math.pow(ropeTheta, (2.0 * i) / headDim);
      if (ropeScaling != null) {
        inv[i] = ropeScaling.scale(inv[i]);
      }
    }
    return inv;
  }

  private static int reqInt(JsonNode c, String field, Path source) {
    JsonNode n = c.get(field);
    if (n == null || !n.canConvertToInt() || n.asInt() <= 0) {
      throw new WhetException(
          source + ": field \"" + field + "\" is missing or not a positive integer");
    }
    return n.asInt();
  }

  private static int optInt(JsonNode c, String field, int dflt, Path source) {
    JsonNode n = c.get(field);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.canConvertToInt() || n.asInt() < 0) {
      throw new WhetException(source + ": field \"" + field + "\" must be a non-negative integer");
    }
    return n.asInt();
  }
}
