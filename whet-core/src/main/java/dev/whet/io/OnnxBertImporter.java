package dev.whet.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.WhetException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns an ONNX export of a BERT encoder into a Hugging Face model directory: {@code config.json},
 * {@code model.safetensors} (F32, HF tensor names), {@code tokenizer.json} and the
 * sentence-transformers pooling description ({@code modules.json}, {@code 1_Pooling/config.json},
 * {@code 2_Normalize}).
 *
 * <p>In ONNX exports of BERT the biases and norms keep their HF names, but each weight matrix is
 * stored transposed, as the right operand of a MatMul, under a generated name ({@code
 * onnx::MatMul_787}). The MatMul node's own name still carries the module path ({@code
 * /encoder/layer.0/attention/self/query/MatMul}), so that is what maps the weight back to {@code
 * encoder.layer.0.attention.self.query.weight}, transposed to HF's (out, in).
 */
public final class OnnxBertImporter {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final Pattern MATMUL =
      Pattern.compile("^/((?:embeddings|encoder|pooler)/.+)/MatMul$");
  private static final Pattern LAYER = Pattern.compile("^encoder\\.layer\\.(\\d+)\\.");

  private OnnxBertImporter() {}

  /** How token vectors become one sentence vector. */
  public enum Pooling {
    /** The first token's ([CLS]) hidden state. */
    CLS,
    /** The mean of the non-padding tokens' hidden states. */
    MEAN
  }

  /**
   * What the ONNX graph does not say about the model.
   *
   * @param numHeads attention heads (the weights do not tell, only their total width)
   * @param pooling sentence-embedding pooling
   * @param normalize whether sentence embeddings are L2-normalised
   * @param maxSeqLength tokens per text the model was trained for (sentence-transformers' {@code
   *     max_seq_length})
   */
  public record Spec(int numHeads, Pooling pooling, boolean normalize, int maxSeqLength) {}

  /**
   * Sizes of a BERT encoder, as found in its weights.
   *
   * @param vocabSize rows of the word embeddings
   * @param maxPositions rows of the position embeddings
   * @param typeVocabSize rows of the token-type embeddings
   * @param hiddenSize width of the hidden states
   * @param intermediateSize width of the feed-forward layer
   * @param numLayers encoder layers
   * @param hasPooler whether {@code pooler.dense} is present
   */
  public record Sizes(
      int vocabSize,
      int maxPositions,
      int typeVocabSize,
      int hiddenSize,
      int intermediateSize,
      int numLayers,
      boolean hasPooler) {

    /** Every tensor a BERT of these sizes has, with its shape, in HF order. */
    public Map<String, long[]> shapes() {
      long h = hiddenSize;
      Map<String, long[]> s = new LinkedHashMap<>();
      s.put("embeddings.word_embeddings.weight", new long[] {vocabSize, h});
      s.put("embeddings.position_embeddings.weight", new long[] {maxPositions, h});
      s.put("embeddings.token_type_embeddings.weight", new long[] {typeVocabSize, h});
      s.put("embeddings.LayerNorm.weight", new long[] {h});
      s.put("embeddings.LayerNorm.bias", new long[] {h});
      for (int l = 0; l < numLayers; l++) {
        String p = "encoder.layer." + l + ".";
        for (String proj : new String[] {"query", "key", "value"}) {
          s.put(p + "attention.self." + proj + ".weight", new long[] {h, h});
          s.put(p + "attention.self." + proj + ".bias", new long[] {h});
        }
        s.put(p + "attention.output.dense.weight", new long[] {h, h});
        s.put(p + "attention.output.dense.bias", new long[] {h});
        s.put(p + "attention.output.LayerNorm.weight", new long[] {h});
        s.put(p + "attention.output.LayerNorm.bias", new long[] {h});
        s.put(p + "intermediate.dense.weight", new long[] {intermediateSize, h});
        s.put(p + "intermediate.dense.bias", new long[] {intermediateSize});
        s.put(p + "output.dense.weight", new long[] {h, intermediateSize});
        s.put(p + "output.dense.bias", new long[] {h});
        s.put(p + "output.LayerNorm.weight", new long[] {h});
        s.put(p + "output.LayerNorm.bias", new long[] {h});
      }
      if (hasPooler) {
        s.put("pooler.dense.weight", new long[] {h, h});
        s.put("pooler.dense.bias", new long[] {h});
      }
      return s;
    }

    /** Number of parameters. */
    public long parameters() {
      return shapes().values().stream().mapToLong(TensorData::numel).sum();
    }
  }

  /**
   * The model's weights under their HF names (no {@code bert.} prefix), F32, matrices as (out, in);
   * checked to form a complete BERT encoder. {@code source} names the model in errors.
   */
  public static Map<String, TensorData> hfWeights(Onnx.Model model, String source) {
    Map<String, TensorData> init = model.initializers();
    Map<String, TensorData> out = new HashMap<>();
    for (TensorData t : init.values()) {
      String n = t.name();
      // position_ids is a buffer (0..max-1), not a parameter; HF no longer saves it.
      if ((n.startsWith("embeddings.") || n.startsWith("encoder.") || n.startsWith("pooler."))
          && !n.equals("embeddings.position_ids")) {
        out.put(n, asF32(t, n, source));
      }
    }
    for (Onnx.Node node : model.nodes()) {
      if (!node.opType().equals("MatMul") || node.inputs().size() != 2) {
        continue;
      }
      TensorData w = init.get(node.inputs().get(1));
      Matcher m = MATMUL.matcher(node.name());
      if (w == null || !m.matches()) {
        continue; // activations times activations (attention scores), or not a module
      }
      String hf = m.group(1).replace('/', '.') + ".weight";
      if (out.containsKey(hf)) {
        throw new WhetException(
            source + ": two weights map to '" + hf + "' (MatMul node '" + node.name() + "')");
      }
      out.put(hf, transpose(asF32(w, hf, source), hf, source));
    }
    // In HF's module order (layer 2 before layer 10), so listings and diffs read naturally.
    Map<String, TensorData> ordered = new LinkedHashMap<>();
    for (String name : sizesOf(out, source).shapes().keySet()) {
      ordered.put(name, out.get(name));
    }
    return ordered;
  }

  /**
   * The sizes of the BERT encoder {@code weights} describe, after checking that every tensor is
   * present with the shape those sizes imply and that there is nothing else.
   */
  public static Sizes sizesOf(Map<String, TensorData> weights, String source) {
    TensorData word = require(weights, "embeddings.word_embeddings.weight", 2, source);
    TensorData pos = require(weights, "embeddings.position_embeddings.weight", 2, source);
    TensorData type = require(weights, "embeddings.token_type_embeddings.weight", 2, source);
    TensorData inter = require(weights, "encoder.layer.0.intermediate.dense.weight", 2, source);
    int layers = 0;
    for (String n : weights.keySet()) {
      Matcher m = LAYER.matcher(n);
      if (m.find()) {
        layers = Math.max(layers, Integer.parseInt(m.group(1)) + 1);
      }
    }
    Sizes sizes =
        new Sizes(
            (int) word.shape()[0],
            (int) pos.shape()[0],
            (int) type.shape()[0],
            (int) word.shape()[1],
            (int) inter.shape()[0],
            layers,
            weights.containsKey("pooler.dense.weight"));
    Map<String, long[]> expected = sizes.shapes();
    for (Map.Entry<String, long[]> e : expected.entrySet()) {
      TensorData t = weights.get(e.getKey());
      if (t == null) {
        throw new WhetException(
            source + ": tensor '" + e.getKey() + "' is missing; it is not a complete BERT encoder");
      }
      if (!Arrays.equals(t.shape(), e.getValue())) {
        throw new WhetException(
            source
                + ": tensor '"
                + e.getKey()
                + "' has shape "
                + Arrays.toString(t.shape())
                + " but the model's other tensors imply "
                + Arrays.toString(e.getValue()));
      }
    }
    for (String n : weights.keySet()) {
      if (!expected.containsKey(n)) {
        throw new WhetException(
            source + ": unexpected tensor '" + n + "' for a BERT encoder; Whet cannot place it");
      }
    }
    return sizes;
  }

  /**
   * Writes the HF directory for {@code model} into {@code dir} (created if needed). Not atomic by
   * itself: {@link ModelCatalog} writes into a temporary directory and renames it.
   */
  public static Sizes writeModelDir(
      Onnx.Model model, byte[] tokenizerJson, Spec spec, Path dir, String source) {
    Map<String, TensorData> weights = hfWeights(model, source);
    Sizes sizes = sizesOf(weights, source);
    if (spec.numHeads() <= 0 || sizes.hiddenSize() % spec.numHeads() != 0) {
      throw new WhetException(
          source
              + ": hidden size "
              + sizes.hiddenSize()
              + " is not divisible by "
              + spec.numHeads()
              + " attention heads");
    }
    try {
      JSON.readTree(tokenizerJson);
    } catch (IOException e) {
      throw new WhetException(
          source + ": its tokenizer JSON does not parse (" + e.getMessage() + ")", e);
    }
    try {
      Files.createDirectories(dir);
      writeSynced(dir.resolve("config.json"), json(config(sizes, spec)));
      Safetensors.write(dir.resolve("model.safetensors"), weights, Map.of("format", "pt"));
      writeSynced(dir.resolve("tokenizer.json"), tokenizerJson);
      SentenceTransformersFiles.write(
          dir,
          sizes.hiddenSize(),
          spec.pooling() == Pooling.CLS,
          spec.normalize(),
          spec.maxSeqLength());
    } catch (IOException e) {
      throw new WhetException(
          dir + ": cannot write the imported model (" + e.getMessage() + ")", e);
    }
    return sizes;
  }

  private static ObjectNode config(Sizes s, Spec spec) {
    ObjectNode c = JSON.createObjectNode();
    c.putArray("architectures").add("BertModel");
    c.put("model_type", "bert");
    c.put("vocab_size", s.vocabSize());
    c.put("hidden_size", s.hiddenSize());
    c.put("num_hidden_layers", s.numLayers());
    c.put("num_attention_heads", spec.numHeads());
    c.put("intermediate_size", s.intermediateSize());
    // The exports compute exact (erf) GELU, which is what HF calls "gelu".
    c.put("hidden_act", "gelu");
    c.put("hidden_dropout_prob", 0.1);
    c.put("attention_probs_dropout_prob", 0.1);
    c.put("max_position_embeddings", s.maxPositions());
    c.put("type_vocab_size", s.typeVocabSize());
    c.put("layer_norm_eps", 1e-12);
    c.put("pad_token_id", 0);
    c.put("initializer_range", 0.02);
    c.put("position_embedding_type", "absolute");
    c.put("torch_dtype", "float32");
    return c;
  }

  private static TensorData require(
      Map<String, TensorData> w, String name, int rank, String source) {
    TensorData t = w.get(name);
    if (t == null) {
      throw new WhetException(
          source + ": tensor '" + name + "' is missing; it is not a complete BERT encoder");
    }
    if (t.shape().length != rank) {
      throw new WhetException(
          source
              + ": tensor '"
              + name
              + "' has shape "
              + Arrays.toString(t.shape())
              + ", expected rank "
              + rank);
    }
    return t;
  }

  private static TensorData asF32(TensorData t, String hfName, String source) {
    return switch (t.dtype()) {
      case F32 -> new TensorData(hfName, DType.F32, t.shape(), t.data());
      case F16, BF16 -> TensorData.ofFloats(hfName, t.shape(), t.toFloats());
      default ->
          throw new WhetException(
              source
                  + ": tensor '"
                  + t.name()
                  + "' ("
                  + hfName
                  + ") is "
                  + t.dtype()
                  + ", expected floats");
    };
  }

  /** (in, out) as the MatMul uses it to HF's (out, in). */
  private static TensorData transpose(TensorData t, String hfName, String source) {
    long[] s = t.shape();
    if (s.length != 2) {
      throw new WhetException(
          source
              + ": weight for '"
              + hfName
              + "' has shape "
              + Arrays.toString(s)
              + ", expected a matrix");
    }
    int rows = (int) s[0];
    int cols = (int) s[1];
    float[] src = t.toFloats();
    float[] dst = new float[src.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        dst[c * rows + r] = src[r * cols + c];
      }
    }
    return TensorData.ofFloats(hfName, new long[] {cols, rows}, dst);
  }

  private static byte[] json(JsonNode node) throws IOException {
    return JSON.writeValueAsBytes(node);
  }

  /** Writes and flushes to disk, so the directory rename that publishes it is durable. */
  static void writeSynced(Path file, byte[] bytes) throws IOException {
    try (FileChannel ch =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
  }
}
