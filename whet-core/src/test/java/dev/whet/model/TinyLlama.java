package dev.whet.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.engine.Engine;
import dev.whet.engine.Tensors;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Tiny random Llama-family decoders for tests, with every feature switched on. */
public final class TinyLlama {
  private TinyLlama() {}

  /** qwen2-style (q/k/v bias), GQA 4/2, llama3 rope scaling, untied head, vocab 50. */
  public static LlamaConfig config() {
    ObjectNode c = new ObjectMapper().createObjectNode();
    c.put("model_type", "qwen2");
    c.put("vocab_size", 50);
    c.put("hidden_size", 16);
    c.put("intermediate_size", 24);
    c.put("num_hidden_layers", 2);
    c.put("num_attention_heads", 4);
    c.put("num_key_value_heads", 2);
    c.put("rms_norm_eps", 1e-5);
    c.put("rope_theta", 10000.0);
    c.put("max_position_embeddings", 64);
    c.put("tie_word_embeddings", false);
    c.put("eos_token_id", 2);
    ObjectNode s = c.putObject("rope_scaling");
    s.put("rope_type", "llama3");
    s.put("factor", 8.0);
    s.put("low_freq_factor", 1.0);
    s.put("high_freq_factor", 4.0);
    s.put("original_max_position_embeddings", 32);
    return LlamaConfig.of(c, Path.of("tiny/config.json"));
  }

  /** A model with seeded random weights, larger than init so outputs vary with the input. */
  public static LlamaModel model(LlamaConfig config, Lora lora, long seed) {
    Engine.init();
    torch.manual_seed(seed);
    LlamaModel m = LlamaModel.of(config, lora);
    try (NoGradGuard g = new NoGradGuard()) {
      for (Map.Entry<String, Tensor> p : Weights.parameters(m).entrySet()) {
        Tensor t = p.getValue();
        Tensor noise = torch.randn(Tensors.shape(t)).mul(new Scalar(0.3));
        if (p.getKey().endsWith("norm.weight")) {
          t.copy_(noise.add(new Scalar(1.0)));
        } else {
          t.copy_(noise);
        }
      }
    }
    return m;
  }
}
