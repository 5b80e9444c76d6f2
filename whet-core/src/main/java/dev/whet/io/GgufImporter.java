package dev.whet.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.WhetException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a Llama-architecture GGUF file into a Hugging Face model directory: config.json,
 * model.safetensors (float32, dequantised), tokenizer.json built from the GGUF tokenizer metadata,
 * tokenizer_config.json (special tokens, chat template).
 */
public final class GgufImporter {
  private static final ObjectMapper JSON = Json.MAPPER;
  private static final String ROPE_FREQS = "rope_freqs.weight";

  private GgufImporter() {}

  /** Writes the model directory's files into {@code dir} (which exists and is empty). */
  public static void writeModelDir(Gguf g, Path dir) throws IOException {
    String arch = String.valueOf(g.require("general.architecture"));
    if (!arch.equals("llama")) {
      throw new WhetException(
          g.file()
              + ": general.architecture '"
              + arch
              + "' is not supported; Whet imports llama-architecture GGUF files");
    }
    int hidden = (int) g.requireLong("llama.embedding_length");
    int heads = (int) g.requireLong("llama.attention.head_count");
    int kvHeads =
        (int)
            ((Number) g.metadata().getOrDefault("llama.attention.head_count_kv", heads))
                .longValue();
    int headDim = hidden / heads;
    Object ropeDims = g.metadata().get("llama.rope.dimension_count");
    if (ropeDims != null && ((Number) ropeDims).intValue() != headDim) {
      throw new WhetException(
          g.file()
              + ": llama.rope.dimension_count "
              + ropeDims
              + " differs from the head size "
              + headDim
              + " (partial rotary embeddings are not supported)");
    }
    double theta =
        ((Number) g.metadata().getOrDefault("llama.rope.freq_base", 10000.0)).doubleValue();
    Llama3RopeScaling ropeScaling = null;
    if (g.tensors().containsKey(ROPE_FREQS)) {
      // Llama 3.1/3.2 files carry their rope_scaling as per-frequency divisors; config.json needs
      // the parameters behind them.
      ropeScaling = Llama3RopeScaling.fromDivisors(g.floats(ROPE_FREQS), theta, headDim);
      if (ropeScaling == null) {
        throw new WhetException(
            g.file()
                + ": tensor '"
                + ROPE_FREQS
                + "' holds rotary frequency divisors that match no Llama-3 rope_scaling; Whet"
                + " cannot express them in config.json");
      }
    }
    int layers = (int) g.requireLong("llama.block_count");
    List<?> tokens = (List<?>) g.require("tokenizer.ggml.tokens");
    boolean tied = !g.tensors().containsKey("output.weight");

    Map<String, TensorData> out = new LinkedHashMap<>();
    for (Gguf.TensorInfo t : g.tensors().values()) {
      if (t.name().equals(ROPE_FREQS)) {
        continue; // written as config.json's rope_scaling instead
      }
      String name = hfName(t.name(), g);
      float[] values = g.floats(t.name());
      if (t.name().endsWith("attn_q.weight")) {
        values = unpermute(values, t.shape(), heads);
      } else if (t.name().endsWith("attn_k.weight")) {
        values = unpermute(values, t.shape(), kvHeads);
      }
      out.put(name, TensorData.ofFloats(name, t.shape(), values));
    }
    Safetensors.write(dir.resolve("model.safetensors"), out, Map.of("format", "pt"));

    ObjectNode c = JSON.createObjectNode();
    c.putArray("architectures").add("LlamaForCausalLM");
    c.put("model_type", "llama");
    c.put("hidden_size", hidden);
    c.put("intermediate_size", (int) g.requireLong("llama.feed_forward_length"));
    c.put("num_hidden_layers", layers);
    c.put("num_attention_heads", heads);
    c.put("num_key_value_heads", kvHeads);
    c.put("hidden_act", "silu");
    c.put(
        "rms_norm_eps",
        ((Number) g.metadata().getOrDefault("llama.attention.layer_norm_rms_epsilon", 1e-5))
            .doubleValue());
    c.put("rope_theta", theta);
    if (ropeScaling != null) {
      ObjectNode r = c.putObject("rope_scaling");
      r.put("rope_type", "llama3");
      r.put("factor", ropeScaling.factor());
      r.put("low_freq_factor", ropeScaling.lowFreqFactor());
      r.put("high_freq_factor", ropeScaling.highFreqFactor());
      r.put("original_max_position_embeddings", ropeScaling.originalMaxPositions());
    }
    c.put(
        "max_position_embeddings",
        ((Number) g.metadata().getOrDefault("llama.context_length", 2048)).intValue());
    c.put("vocab_size", tokens.size());
    c.put("tie_word_embeddings", tied);
    putId(c, "bos_token_id", g, "tokenizer.ggml.bos_token_id");
    putId(c, "eos_token_id", g, "tokenizer.ggml.eos_token_id");
    putId(c, "pad_token_id", g, "tokenizer.ggml.padding_token_id");
    c.put("torch_dtype", "float32");
    c.put("whet_source", "gguf:" + g.file().getFileName());
    Atomic.writeString(dir.resolve("config.json"), pretty(c));

    Atomic.writeString(dir.resolve("tokenizer.json"), pretty(GgufTokenizer.tokenizerJson(g)));
    Atomic.writeString(
        dir.resolve("tokenizer_config.json"), pretty(GgufTokenizer.tokenizerConfig(g)));
  }

  /** llama.cpp's tensor names → Hugging Face's. */
  static String hfName(String gguf, Gguf g) {
    Map<String, String> top =
        Map.of(
            "token_embd.weight", "model.embed_tokens.weight",
            "output_norm.weight", "model.norm.weight",
            "output.weight", "lm_head.weight");
    if (top.containsKey(gguf)) {
      return top.get(gguf);
    }
    String[] parts = gguf.split("\\.", 3); // blk, N, rest
    Map<String, String> block = new HashMap<>();
    block.put("attn_q", "self_attn.q_proj");
    block.put("attn_k", "self_attn.k_proj");
    block.put("attn_v", "self_attn.v_proj");
    block.put("attn_output", "self_attn.o_proj");
    block.put("ffn_gate", "mlp.gate_proj");
    block.put("ffn_up", "mlp.up_proj");
    block.put("ffn_down", "mlp.down_proj");
    block.put("attn_norm", "input_layernorm");
    block.put("ffn_norm", "post_attention_layernorm");
    if (parts.length == 3 && parts[0].equals("blk")) {
      String rest = parts[2];
      int dot = rest.lastIndexOf('.');
      String mapped = block.get(rest.substring(0, dot));
      if (mapped != null) {
        return "model.layers." + parts[1] + "." + mapped + rest.substring(dot);
      }
    }
    throw new WhetException(
        g.file() + ": tensor '" + gguf + "' is not part of a llama model Whet knows how to import");
  }

  /**
   * Undoes llama.cpp's reordering of Q/K rows. Its converter stores each head's rows as interleaved
   * pairs (row 2j, 2j+1 = HF rows j, j + d/2) for ggml's pairwise RoPE; Hugging Face's rotate-half
   * layout keeps the two halves apart.
   *
   * @param shape (heads·d, in)
   */
  static float[] unpermute(float[] w, long[] shape, int heads) {
    int rows = (int) shape[0];
    int cols = (int) shape[1];
    int d = rows / heads;
    int half = d / 2;
    float[] out = new float[w.length];
    for (int h = 0; h < heads; h++) {
      for (int j = 0; j < half; j++) {
        for (int two = 0; two < 2; two++) {
          int src = h * d + 2 * j + two;
          int dst = h * d + two * half + j;
          System.arraycopy(w, src * cols, out, dst * cols, cols);
        }
      }
    }
    return out;
  }

  private static void putId(ObjectNode c, String field, Gguf g, String key) {
    Object v = g.metadata().get(key);
    // llama.cpp writes 0xFFFFFFFF (-1 as uint32) for "none".
    if (v instanceof Number n && n.longValue() >= 0 && n.longValue() < 0xFFFFFFFFL) {
      c.put(field, n.intValue());
    }
  }

  static String pretty(Object node) {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
