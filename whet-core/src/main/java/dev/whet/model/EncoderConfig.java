package dev.whet.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.WhetException;
import dev.whet.io.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The fields of a Hugging Face BERT-family {@code config.json} that the encoder needs. The model is
 * built from it ({@link BertModel#of}); its blocks get flat arguments (STYLE.md).
 *
 * @param modelType {@code bert}, {@code roberta} or {@code xlm-roberta}
 * @param positionOffset where position ids start: 0 for BERT, {@code pad_token_id + 1} for RoBERTa,
 *     whose position ids count only real tokens
 */
public record EncoderConfig(
    String modelType,
    int vocabSize,
    int hiddenSize,
    int layers,
    int heads,
    int intermediateSize,
    int maxPositions,
    int typeVocabSize,
    double layerNormEps,
    double hiddenDropout,
    double attentionDropout,
    String hiddenAct,
    int padTokenId,
    int positionOffset) {

  public static final List<String> SUPPORTED = List.of("bert", "roberta", "xlm-roberta");

  public int headDim() {
    return hiddenSize / heads;
  }

  /** Reads and checks {@code config.json}; every problem names the file and the field. */
  public static EncoderConfig read(Path configJson) {
    JsonNode c;
    try {
      c = Json.MAPPER.readTree(configJson.toFile());
    } catch (IOException e) {
      throw new WhetException(configJson + ": not valid JSON (" + e.getMessage() + ")", e);
    }
    if (c == null || !c.isObject()) {
      throw new WhetException(configJson + ": expected a JSON object");
    }
    String type = c.path("model_type").asText("");
    if (!SUPPORTED.contains(type)) {
      throw new WhetException(
          configJson
              + ": model_type '"
              + type
              + "' is not a supported encoder; supported: "
              + String.join(", ", SUPPORTED));
    }
    boolean roberta = !type.equals("bert");
    int pad = optInt(c, "pad_token_id", roberta ? 1 : 0, configJson);
    EncoderConfig config =
        new EncoderConfig(
            type,
            reqInt(c, "vocab_size", configJson),
            reqInt(c, "hidden_size", configJson),
            reqInt(c, "num_hidden_layers", configJson),
            reqInt(c, "num_attention_heads", configJson),
            reqInt(c, "intermediate_size", configJson),
            optInt(c, "max_position_embeddings", 512, configJson),
            optInt(c, "type_vocab_size", 2, configJson),
            c.path("layer_norm_eps").asDouble(1e-12),
            c.path("hidden_dropout_prob").asDouble(0.1),
            c.path("attention_probs_dropout_prob").asDouble(0.1),
            c.path("hidden_act").asText("gelu"),
            pad,
            roberta ? pad + 1 : 0);
    if (config.hiddenSize % config.heads != 0) {
      throw new WhetException(
          configJson
              + ": hidden_size "
              + config.hiddenSize
              + " is not divisible by num_attention_heads "
              + config.heads);
    }
    if (!List.of("gelu", "gelu_new", "gelu_pytorch_tanh", "relu").contains(config.hiddenAct)) {
      throw new WhetException(
          configJson
              + ": hidden_act '"
              + config.hiddenAct
              + "' is not supported (gelu, gelu_new, relu)");
    }
    return config;
  }

  /** The same architecture with {@code n} layers (to time or test one layer of it). */
  public EncoderConfig withLayers(int n) {
    return new EncoderConfig(
        modelType,
        vocabSize,
        hiddenSize,
        n,
        heads,
        intermediateSize,
        maxPositions,
        typeVocabSize,
        layerNormEps,
        hiddenDropout,
        attentionDropout,
        hiddenAct,
        padTokenId,
        positionOffset);
  }

  /** The same architecture with these dropout probabilities. */
  public EncoderConfig withDropout(double hidden, double attention) {
    return new EncoderConfig(
        modelType,
        vocabSize,
        hiddenSize,
        layers,
        heads,
        intermediateSize,
        maxPositions,
        typeVocabSize,
        layerNormEps,
        hidden,
        attention,
        hiddenAct,
        padTokenId,
        positionOffset);
  }

  /** Usable sequence length: position embeddings minus RoBERTa's offset. */
  public int maxSequenceLength() {
    return maxPositions - positionOffset;
  }

  private static int reqInt(JsonNode c, String field, Path file) {
    JsonNode v = c.get(field);
    if (v == null || !v.canConvertToInt() || v.asInt() <= 0) {
      throw new WhetException(file + ": field '" + field + "' must be a positive integer");
    }
    return v.asInt();
  }

  private static int optInt(JsonNode c, String field, int dflt, Path file) {
    JsonNode v = c.get(field);
    if (v == null || v.isNull()) {
      return dflt;
    }
    if (!v.canConvertToInt()) {
      throw new WhetException(file + ": field '" + field + "' must be an integer");
    }
    return v.asInt();
  }
}
