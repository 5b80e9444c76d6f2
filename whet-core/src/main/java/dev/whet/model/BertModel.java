package dev.whet.model;

import static org.bytedeco.pytorch.global.torch.gelu;
import static org.bytedeco.pytorch.global.torch.relu;
import static org.bytedeco.pytorch.global.torch.scaled_dot_product_attention;

import java.util.List;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.EmbeddingImpl;
import org.bytedeco.pytorch.LayerNormImpl;
import org.bytedeco.pytorch.LayerNormOptions;
import org.bytedeco.pytorch.LongVector;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.ModuleListImpl;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * A BERT-family encoder (BERT, RoBERTa, XLM-R) as libtorch modules. Children are named after the
 * Hugging Face keys they load ({@code embeddings.word_embeddings}, {@code
 * encoder.layer.0.attention.self.query}, ...), so loading is a one-to-one map. Returns hidden
 * states; pooling and heads are separate blocks.
 */
public final class BertModel extends Block {
  private final Module embeddings;
  private final EmbeddingImpl wordEmbeddings;
  private final EmbeddingImpl positionEmbeddings;
  private final EmbeddingImpl tokenTypeEmbeddings;
  private final LayerNormImpl embeddingsNorm;
  private final Layer[] layers;
  private final double dropout;
  private final double attentionDropout;
  private final int positionOffset;
  private final int padTokenId;

  /** Built by {@link #of}: the encoder {@code c} describes (its dropout rates included). */
  private BertModel(EncoderConfig c, Lora lora) {
    int hidden = c.hiddenSize();
    double layerNormEps = c.layerNormEps();
    double dropout = c.hiddenDropout();
    double attentionDropout = c.attentionDropout();
    int padTokenId = c.padTokenId();
    // 0 for BERT; pad_token_id + 1 for RoBERTa, whose positions count real tokens only.
    int positionOffset = c.positionOffset();
    Activation activation = Activation.of(c.hiddenAct());
    this.dropout = dropout;
    this.attentionDropout = attentionDropout;
    this.positionOffset = positionOffset;
    this.padTokenId = padTokenId;
    embeddings = child(this, "embeddings", new Module());
    wordEmbeddings = child(embeddings, "word_embeddings", new EmbeddingImpl(c.vocabSize(), hidden));
    positionEmbeddings =
        child(embeddings, "position_embeddings", new EmbeddingImpl(c.maxPositions(), hidden));
    tokenTypeEmbeddings =
        child(embeddings, "token_type_embeddings", new EmbeddingImpl(c.typeVocabSize(), hidden));
    embeddingsNorm = child(embeddings, "LayerNorm", layerNorm(hidden, layerNormEps));
    Module encoder = child(this, "encoder", new Module());
    ModuleListImpl list = child(encoder, "layer", new ModuleListImpl());
    layers = new Layer[c.layers()];
    for (int i = 0; i < layers.length; i++) {
      layers[i] =
          new Layer(
              hidden,
              c.heads(),
              c.intermediateSize(),
              layerNormEps,
              dropout,
              attentionDropout,
              activation,
              lora);
      list.push_back(layers[i]);
    }
  }

  /**
   * Builds the encoder a config describes, with LoRA adapters where {@code lora} says (or none).
   */
  public static BertModel of(EncoderConfig c, Lora lora) {
    return owning(() -> new BertModel(c, lora));
  }

  static LayerNormImpl layerNorm(int hidden, double eps) {
    LayerNormOptions o = new LayerNormOptions(new LongVector(new long[] {hidden}));
    o.eps().put(eps);
    return new LayerNormImpl(o);
  }

  /** Folds every LoRA adapter into its projection's weight. */
  public void mergeLora() {
    for (Layer l : layers) {
      l.projections().forEach(Linear::mergeLora);
    }
  }

  /**
   * Stores each layer's query, key and value weights side by side, so inference multiplies by them
   * once instead of three times (one 64 × 384 × 1152 GEMM ran in 199 µs against 3 × 96 µs in bf16).
   * For models that are no longer trained (an {@link Encoder}); layers with adapters are left
   * alone.
   */
  public void fuseQkvForInference() {
    for (Layer l : layers) {
      l.fuseQkv();
    }
  }

  /** The embedding block (word, position, token type, norm), for freezing. */
  public Module embeddings() {
    return embeddings;
  }

  /** The transformer layers, first to last (for freezing and layer-wise learning rates). */
  public Layer[] layers() {
    return layers;
  }

  /**
   * @param ids (B, T) token ids
   * @param mask (B, T) 1 for real tokens, 0 for padding
   * @param typeIds (B, T) token type ids, or null for all zeros
   * @return (B, T, hidden) last hidden states
   */
  public Tensor forward(Tensor ids, Tensor mask, Tensor typeIds) {
    Tensor x = wordEmbeddings.forward(ids); // (B, T, H)
    x = x.add(positionEmbeddings.forward(positionIds(ids, mask)));
    x = x.add(tokenTypeEmbeddings.forward(typeIds != null ? typeIds : torch.zeros_like(ids)));
    x = Dropout.apply(embeddingsNorm.forward(x), dropout, is_training());
    Tensor bias = Attention.paddingBias(mask); // (B, 1, 1, T) additive, or null without padding
    for (Layer layer : layers) {
      x = layer.forward(x, bias);
    }
    return x;
  }

  private Tensor positionIds(Tensor ids, Tensor mask) {
    long t = ids.size(1);
    if (positionOffset == 0) {
      return torch.arange(new org.bytedeco.pytorch.Scalar(t)).unsqueeze(0); // (1, T)
    }
    // RoBERTa: real tokens get offset, offset+1, ...; padding keeps padding_idx.
    Tensor real = ids.ne(new org.bytedeco.pytorch.Scalar(padTokenId)).to(torch.ScalarType.Long);
    return real.cumsum(1).mul(real).add(new org.bytedeco.pytorch.Scalar(padTokenId)); // (B, T)
  }

  /** Feed-forward activation named by {@code hidden_act}. */
  public enum Activation {
    GELU,
    GELU_TANH,
    RELU;

    static Activation of(String hfName) {
      return switch (hfName) {
        case "gelu" -> GELU;
        case "gelu_new", "gelu_pytorch_tanh" -> GELU_TANH;
        case "relu" -> RELU;
        default -> throw new IllegalArgumentException("unsupported activation " + hfName);
      };
    }

    Tensor apply(Tensor x) {
      return switch (this) {
        case GELU -> gelu(x);
        case GELU_TANH -> gelu(x, "tanh");
        case RELU -> relu(x);
      };
    }
  }

  /** One transformer layer: self-attention and feed-forward, each followed by add and norm. */
  public static final class Layer extends Block {
    private final Linear query;
    private final Linear key;
    private final Linear value;
    private final Linear attentionOut;
    private final LayerNormImpl attentionNorm;
    private final Linear intermediate;
    private final Linear output;
    private final LayerNormImpl outputNorm;
    private final int heads;
    private final double dropout;
    private final double attentionDropout;
    private final Activation activation;

    /** (3H, H) and (3H): query, key and value side by side once fused; their weights view these. */
    private Tensor qkvWeight;

    private Tensor qkvBias;

    Layer(
        int hidden,
        int heads,
        int ffn,
        double eps,
        double dropout,
        double attentionDropout,
        Activation activation,
        Lora lora) {
      this.heads = heads;
      this.dropout = dropout;
      this.attentionDropout = attentionDropout;
      this.activation = activation;
      Module attention = child(this, "attention", new Module());
      Module self = child(attention, "self", new Module());
      query = child(self, "query", Linear.of(hidden, hidden, true, lora, "q"));
      key = child(self, "key", Linear.of(hidden, hidden, true, lora, "k"));
      value = child(self, "value", Linear.of(hidden, hidden, true, lora, "v"));
      Module selfOutput = child(attention, "output", new Module());
      attentionOut = child(selfOutput, "dense", Linear.of(hidden, hidden, true, lora, "o"));
      attentionNorm = child(selfOutput, "LayerNorm", layerNorm(hidden, eps));
      Module inter = child(this, "intermediate", new Module());
      intermediate = child(inter, "dense", Linear.of(hidden, ffn, true, lora, "up"));
      Module out = child(this, "output", new Module());
      output = child(out, "dense", Linear.of(ffn, hidden, true, lora, "down"));
      outputNorm = child(out, "LayerNorm", layerNorm(hidden, eps));
    }

    private void fuseQkv() {
      if (query.hasLora() || key.hasLora() || value.hasLora()) {
        return;
      }
      long h = query.weight().size(0);
      try (NoGradGuard g = new NoGradGuard()) {
        qkvWeight = cat(query.weight(), key.weight(), value.weight()); // (3H, H)
        qkvBias = cat(query.bias(), key.bias(), value.bias()); // (3H)
        List<Linear> parts = List.of(query, key, value);
        for (int i = 0; i < 3; i++) {
          // The projections keep their names and shapes, now as views: one copy of each weight.
          parts.get(i).weight().__dispatch_set_data(qkvWeight.narrow(0, i * h, h));
          parts.get(i).bias().__dispatch_set_data(qkvBias.narrow(0, i * h, h));
        }
      }
    }

    private static Tensor cat(Tensor a, Tensor b, Tensor c) {
      return torch.cat(new TensorArrayRef(new TensorVector(a, b, c)), 0);
    }

    /**
     * @param x (B, T, H)
     * @param bias (B, 1, 1, T) added to the attention scores (0 or -1e9 on padding), or null when
     *     the batch has no padding
     */
    Tensor forward(Tensor x, Tensor bias) {
      long b = x.size(0);
      long t = x.size(1);
      long h = x.size(2);
      long d = h / heads;
      Tensor q;
      Tensor k;
      Tensor v;
      if (qkvWeight != null && !is_training()) {
        Tensor qkv =
            torch
                .linear(x, qkvWeight, new TensorOptional(qkvBias))
                .view(b, t, 3, heads, d)
                .permute(2, 0, 3, 1, 4); // (3, B, heads, T, d)
        q = qkv.select(0, 0); // (B, heads, T, d)
        k = qkv.select(0, 1);
        v = qkv.select(0, 2);
      } else {
        q = query.forward(x).view(b, t, heads, d).transpose(1, 2); // (B, heads, T, d)
        k = key.forward(x).view(b, t, heads, d).transpose(1, 2); // (B, heads, T, d)
        v = value.forward(x).view(b, t, heads, d).transpose(1, 2); // (B, heads, T, d)
      }
      double p = is_training() ? attentionDropout : 0;
      Tensor a; // (B, heads, T, d)
      if (p > 0 || Attention.isBf16(q)) {
        // SDPA's CPU kernels take no dropout (its fallback draws the mask with libtorch's slow
        // dropout, see Dropout), and in bf16 libtorch 2.10's fused kernel is 20x slower than
        // these three ops on a native-bf16 CPU (docs/benchmarks.md), so both spell it out.
        a = Attention.spelledOut(q, k, v, bias, p);
      } else {
        a =
            scaled_dot_product_attention(
                q,
                k,
                v,
                bias == null ? new TensorOptional() : new TensorOptional(bias),
                0.0,
                false,
                new DoubleOptional(),
                false);
      }
      a = a.transpose(1, 2).reshape(b, t, h); // (B, T, H)
      x =
          attentionNorm.forward(
              x.add(Dropout.apply(attentionOut.forward(a), dropout, is_training())));
      Tensor f = output.forward(activation.apply(intermediate.forward(x))); // (B, T, H)
      return outputNorm.forward(x.add(Dropout.apply(f, dropout, is_training())));
    }

    /** The layer's projections, for merging adapters. */
    List<Linear> projections() {
      return List.of(query, key, value, attentionOut, intermediate, output);
    }
  }
}
