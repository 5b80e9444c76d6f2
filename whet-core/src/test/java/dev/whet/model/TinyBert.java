package dev.whet.model;

import dev.whet.engine.Engine;
import dev.whet.io.Safetensors;
import dev.whet.io.TensorData;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A tiny randomly initialised BERT in Hugging Face layout with the real all-MiniLM-L6-v2 tokenizer:
 * fast enough for training-loop tests, real enough to exercise every code path.
 */
public final class TinyBert {
  private TinyBert() {}

  public static Path create(Path dir, long seed) throws IOException {
    Engine.init();
    Files.createDirectories(dir);
    Files.writeString(
        dir.resolve("config.json"),
        """
        {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": 30522,
         "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
         "intermediate_size": 64, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
         "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 128,
         "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0}
        """);
    try (InputStream in = TinyBert.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
      Files.copy(in, dir.resolve("tokenizer.json"));
    }
    torch.manual_seed(seed);
    BertModel m = BertModel.of(EncoderConfig.read(dir.resolve("config.json")), null);
    Map<String, TensorData> tensors = new LinkedHashMap<>();
    // Transformers' initialisation (normal, std 0.02; LayerNorm 1 and 0; zero biases): with
    // libtorch's defaults (N(0, 1) embeddings) a tiny model barely moves in a few dozen steps.
    Weights.parameters(m)
        .forEach(
            (n, t) -> {
              long[] shape = t.sizes().vec().get();
              Tensor init =
                  n.endsWith("LayerNorm.weight")
                      ? torch.ones(shape)
                      : n.endsWith(".bias")
                          ? torch.zeros(shape)
                          : torch.randn(shape).mul(new Scalar(0.02));
              tensors.put(n, Weights.toData(n, init));
            });
    Safetensors.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
    return dir;
  }
}
