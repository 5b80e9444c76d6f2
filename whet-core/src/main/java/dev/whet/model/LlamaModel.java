package dev.whet.model;

import static org.bytedeco.pytorch.global.torch.scaled_dot_product_attention;

import dev.whet.engine.Engine;
import dev.whet.engine.Tensors;
import dev.whet.io.Safetensors;
import dev.whet.io.TensorData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.EmbeddingImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.ModuleListImpl;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A Llama-family decoder (Llama, Mistral, Qwen2) as libtorch modules: grouped-query attention with
 * rotary positions (Hugging Face's rotate-half layout), RMSNorm, SwiGLU feed-forward, tied or
 * separate output projection. Children are named after the Hugging Face keys they load ({@code
 * model.layers.0.self_attn.q_proj}, {@code lm_head}), so loading is a one-to-one map. Returns
 * logits; the loss lives in the training step.
 */
public final class LlamaModel extends Block {
  private final EmbeddingImpl embedTokens;
  private final Tensor embedWeight;
  private final Layer[] layers;
  private final RmsNorm norm;
  private final Linear lmHead;
  private final Tensor invFreq; // (headDim / 2) float64, cast to the activations' dtype per call
  private final int kvHeads;
  private final int headDim;
  private final int maxContext;

  /** Built by {@link #of}: the decoder {@code c} describes, with {@code lora}'s adapters. */
  private LlamaModel(LlamaConfig c, Lora lora) {
    int hidden = c.hiddenSize();
    int heads = c.heads();
    int kvHeads = c.kvHeads();
    int headDim = c.headDim();
    double[] invFreq = c.inverseFrequencies();
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.maxContext = c.maxContext();
    Module model = child(this, "model", new Module());
    embedTokens = child(model, "embed_tokens", new EmbeddingImpl(c.vocabSize(), hidden));
    embedWeight = Tensors.own(embedTokens.weight());
    ModuleListImpl list = child(model, "layers", new ModuleListImpl());
    layers = new Layer[c.layers()];
    for (int i = 0; i < layers.length; i++) {
      layers[i] =
          new Layer(
              hidden,
              c.intermediateSize(),
              heads,
              kvHeads,
              headDim,
              c.rmsNormEps(),
              c.qkvBias(),
              c.oBias(),
              lora);
      list.push_back(layers[i]);
    }
    norm = child(model, "norm", new RmsNorm(hidden, c.rmsNormEps()));
    // A separate output projection, unless tied to the token embeddings.
    this.lmHead =
        c.tieWordEmbeddings()
            ? null
            : child(this, "lm_head", new Linear(hidden, c.vocabSize(), false));
    this.invFreq = Tensors.fromDoubles(invFreq, invFreq.length);
  }

  /** Builds the decoder a config describes, with LoRA adapters where {@code lora} says. */
  public static LlamaModel of(LlamaConfig c, Lora lora) {
    return owning(() -> new LlamaModel(c, lora));
  }

  /**
   * Loads a Hugging Face model directory (config.json, single or sharded safetensors in
   * F32/F16/BF16, kept as float32). Adapters named by {@code lora} start fresh (B = 0).
   */
  public static LlamaModel load(Path dir, Lora lora) {
    Engine.init();
    LlamaConfig config = LlamaConfig.read(dir.resolve("config.json"));
    LlamaModel m = of(config, lora);
    Map<String, TensorData> tensors = new LinkedHashMap<>(Safetensors.readModelDir(dir));
    String embed = "model.embed_tokens.weight";
    if (config.tieWordEmbeddings()) {
      // A tied checkpoint stores the shared matrix once, under either name (safetensors drops
      // shared copies; which name survives depends on the writer).
      TensorData head = tensors.remove("lm_head.weight");
      if (!tensors.containsKey(embed) && head != null) {
        tensors.put(embed, new TensorData(embed, head.dtype(), head.shape(), head.data()));
      }
    }
    Weights.load(m, tensors, List.of(), dir);
    return m;
  }

  /** The longest sequence this model handles exactly. */
  public int maxContext() {
    return maxContext;
  }

  /** The transformer layers, first to last (for freezing). */
  public Layer[] layers() {
    return layers;
  }

  /** Token embeddings (vocab, hidden); also the output projection when tied. */
  public Tensor embedWeight() {
    return embedWeight;
  }

  /** Every projection that can carry an adapter, for merging and disabling. */
  public List<Linear> projections() {
    List<Linear> out = new ArrayList<>();
    for (Layer l : layers) {
      out.addAll(l.projections());
    }
    return out;
  }

  /** Folds every LoRA adapter into its projection's weight. */
  public void mergeLora() {
    projections().forEach(Linear::mergeLora);
  }

  /**
   * A cache for incremental decoding of {@code batch} rows up to {@code capacity} tokens, in the
   * model's dtype. Create it outside the per-step {@code PointerScope}s that use it.
   */
  public KvCache newCache(int batch, int capacity) {
    return new KvCache(
        layers.length,
        batch,
        kvHeads,
        Math.min(capacity, maxContext),
        headDim,
        embedWeight.scalar_type().intern());
  }

  /**
   * Causal language-model logits for whole sequences, positions 0..T-1.
   *
   * @param ids (B, T) token ids
   * @return (B, T, vocab) logits
   */
  public Tensor forward(Tensor ids) {
    return forward(ids, null, null, null);
  }

  /**
   * The general forward pass.
   *
   * @param ids (B, T) token ids
   * @param positions (B, T) RoPE positions, or null for {@code past .. past+T-1}
   * @param attend (B, 1, T, past+T) boolean, true where a query may attend a key; null for plain
   *     causal attention (see {@link #packedMask})
   * @param cache keys and values of earlier tokens, extended in place; or null
   * @return (B, T, vocab) logits
   */
  public Tensor forward(Tensor ids, Tensor positions, Tensor attend, KvCache cache) {
    return logits(hidden(ids, positions, attend, cache));
  }

  /**
   * Final hidden states (after the last norm); arguments as {@link #forward(Tensor, Tensor, Tensor,
   * KvCache)}. Generation projects only the last position to the vocabulary.
   *
   * @return (B, T, H)
   */
  public Tensor hidden(Tensor ids, Tensor positions, Tensor attend, KvCache cache) {
    long t = ids.size(1);
    int past = cache == null ? 0 : cache.length();
    if (past + t > maxContext) {
      throw new dev.whet.WhetException(
          "sequence of " + (past + t) + " tokens exceeds the model's context of " + maxContext);
    }
    if (positions == null) {
      positions = torch.arange(new Scalar(past), new Scalar(past + t)).unsqueeze(0); // (1, T)
    }
    if (attend == null && t > 1) {
      attend = causalMask(t, past);
    }
    Tensor x = embedTokens.forward(ids); // (B, T, H)
    Tensor freqs = positions.unsqueeze(-1).to(ScalarType.Double).mul(invFreq); // (B, T, d/2)
    Tensor emb = torch.cat(new TensorArrayRef(new TensorVector(freqs, freqs)), -1); // (B, T, d)
    Tensor cos = emb.cos().to(x.scalar_type()).unsqueeze(1); // (B, 1, T, d)
    Tensor sin = emb.sin().to(x.scalar_type()).unsqueeze(1); // (B, 1, T, d)
    for (int i = 0; i < layers.length; i++) {
      x = layers[i].forward(x, cos, sin, attend, cache, i);
    }
    if (cache != null) {
      cache.advance((int) t);
    }
    return norm.forward(x); // (B, T, H)
  }

  /** (..., H) hidden states → (..., vocab) logits, through lm_head or the tied embeddings. */
  public Tensor logits(Tensor hidden) {
    return lmHead != null ? lmHead.forward(hidden) : torch.linear(hidden, embedWeight);
  }

  /** (1, 1, T, past+T): query i (at position past+i) may attend keys 0..past+i. */
  static Tensor causalMask(long t, long past) {
    Tensor q = torch.arange(new Scalar(past), new Scalar(past + t)).unsqueeze(1); // (T, 1)
    Tensor k = torch.arange(new Scalar(past + t)).unsqueeze(0); // (1, past+T)
    return k.le(q).unsqueeze(0).unsqueeze(0); // (1, 1, T, past+T)
  }

  /**
   * A mask for several examples packed into each row: token i may attend token j when j ≤ i and
   * both belong to the same example, so examples never see each other.
   *
   * @param sequenceIds (B, T) which example each token belongs to (any ids; padding may use its own
   *     id)
   * @return (B, 1, T, T) boolean
   */
  public static Tensor packedMask(Tensor sequenceIds) {
    long t = sequenceIds.size(1);
    Tensor same = sequenceIds.unsqueeze(2).eq(sequenceIds.unsqueeze(1)); // (B, T, T)
    Tensor causal = torch.ones(new long[] {t, t}).to(ScalarType.Bool).tril(); // (T, T)
    return same.logical_and(causal).unsqueeze(1); // (B, 1, T, T)
  }

  /**
   * Positions restarting at 0 at each example of a packed row, so each example sees the positions
   * it would see alone.
   *
   * @param sequenceIds row-major (rows × width) example ids, equal ids contiguous
   * @return the positions in the same layout
   */
  public static long[] packedPositions(long[] sequenceIds, int width) {
    long[] pos = new long[sequenceIds.length];
    for (int i = 0; i < pos.length; i++) {
      boolean start = i % width == 0 || sequenceIds[i] != sequenceIds[i - 1];
      pos[i] = start ? 0 : pos[i - 1] + 1;
    }
    return pos;
  }

  /**
   * Keys and values of earlier tokens per layer, preallocated as (B, kvHeads, capacity, headDim) so
   * each decoding step writes one slot instead of copying the whole history.
   */
  public static final class KvCache {
    private final Tensor[] keys;
    private final Tensor[] values;
    private final int capacity;
    private int length;

    KvCache(int layers, int batch, int kvHeads, int capacity, int headDim, ScalarType dtype) {
      this.capacity = capacity;
      keys = new Tensor[layers];
      values = new Tensor[layers];
      for (int i = 0; i < layers; i++) {
        keys[i] = torch.zeros(new long[] {batch, kvHeads, capacity, headDim}).to(dtype);
        values[i] = torch.zeros(new long[] {batch, kvHeads, capacity, headDim}).to(dtype);
      }
    }

    /** Number of tokens cached so far. */
    public int length() {
      return length;
    }

    public int capacity() {
      return capacity;
    }

    /** Stores (B, kvHeads, T, d) at the current end and returns everything cached so far. */
    Tensor[] append(int layer, Tensor k, Tensor v) {
      long t = k.size(2);
      if (length + t > capacity) {
        throw new dev.whet.WhetException(
            "KV cache full: " + (length + t) + " tokens exceed its capacity of " + capacity);
      }

      // The binding returns enums as new objects: compare interned values, never with ==.
      if (keys[layer].scalar_type().intern() != k.scalar_type().intern()) {
        throw new IllegalStateException(
            "KV cache holds " + keys[layer].scalar_type() + " but keys are " + k.scalar_type());
      }
      keys[layer].narrow(2, length, t).copy_(k);
      values[layer].narrow(2, length, t).copy_(v);
      return new Tensor[] {
        keys[layer].narrow(2, 0, length + t), values[layer].narrow(2, 0, length + t)
      }; // (B, kvHeads, past+T, d) each
    }

    void advance(int t) {
      length += t;
    }
  }

  /** Root-mean-square norm with a learned scale ({@code weight}), no bias, no mean-centring. */
  public static final class RmsNorm extends Block {
    private final Tensor weight;
    private final double eps;
    private final long[] shape;

    RmsNorm(int hidden, double eps) {
      this.eps = eps;
      this.shape = new long[] {hidden};
      weight = Tensors.own(register_parameter("weight", torch.ones(new long[] {hidden})));
    }

    /** (..., H) → (..., H). */
    public Tensor forward(Tensor x) {
      return torch.rms_norm(x, shape, new TensorOptional(weight), new DoubleOptional(eps));
    }
  }

  /** One decoder layer: pre-norm self-attention, then pre-norm SwiGLU feed-forward. */
  public static final class Layer extends Block {
    private final Linear q;
    private final Linear k;
    private final Linear v;
    private final Linear o;
    private final Linear gate;
    private final Linear up;
    private final Linear down;
    private final RmsNorm inputNorm;
    private final RmsNorm postAttentionNorm;
    private final int heads;
    private final int kvHeads;
    private final int headDim;

    Layer(
        int hidden,
        int intermediate,
        int heads,
        int kvHeads,
        int headDim,
        double eps,
        boolean qkvBias,
        boolean oBias,
        Lora lora) {
      this.heads = heads;
      this.kvHeads = kvHeads;
      this.headDim = headDim;
      Module attn = child(this, "self_attn", new Module());
      q = child(attn, "q_proj", Linear.of(hidden, heads * headDim, qkvBias, lora, "q"));
      k = child(attn, "k_proj", Linear.of(hidden, kvHeads * headDim, qkvBias, lora, "k"));
      v = child(attn, "v_proj", Linear.of(hidden, kvHeads * headDim, qkvBias, lora, "v"));
      o = child(attn, "o_proj", Linear.of(heads * headDim, hidden, oBias, lora, "o"));
      Module mlp = child(this, "mlp", new Module());
      gate = child(mlp, "gate_proj", Linear.of(hidden, intermediate, false, lora, "gate"));
      up = child(mlp, "up_proj", Linear.of(hidden, intermediate, false, lora, "up"));
      down = child(mlp, "down_proj", Linear.of(intermediate, hidden, false, lora, "down"));
      inputNorm = child(this, "input_layernorm", new RmsNorm(hidden, eps));
      postAttentionNorm = child(this, "post_attention_layernorm", new RmsNorm(hidden, eps));
    }

    /**
     * @param x (B, T, H)
     * @param cos (B|1, 1, T, d) and {@code sin} likewise: RoPE angles of the T positions
     * @param attend (B|1, 1, T, S) boolean or null (attend everything: one new token)
     */
    Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor attend, KvCache cache, int index) {
      long b = x.size(0);
      long t = x.size(1);
      Tensor h = inputNorm.forward(x);
      Tensor qs = q.forward(h).view(b, t, heads, headDim).transpose(1, 2); // (B, nh, T, d)
      Tensor ks = k.forward(h).view(b, t, kvHeads, headDim).transpose(1, 2); // (B, nkv, T, d)
      Tensor vs = v.forward(h).view(b, t, kvHeads, headDim).transpose(1, 2); // (B, nkv, T, d)
      qs = rope(qs, cos, sin);
      ks = rope(ks, cos, sin);
      if (cache != null) {
        Tensor[] kv = cache.append(index, ks, vs);
        ks = kv[0]; // (B, nkv, S, d), S = past + T
        vs = kv[1];
      }
      ks = repeatKv(ks); // (B, nh, S, d)
      vs = repeatKv(vs);
      Tensor a; // (B, nh, T, d)
      if (Attention.isBf16(qs)) {
        // libtorch 2.10's fused bf16 attention is many times slower than these ops (Attention).
        a = Attention.spelledOut(qs, ks, vs, attend);
      } else {
        a =
            scaled_dot_product_attention(
                qs,
                ks,
                vs,
                attend == null ? new TensorOptional() : new TensorOptional(attend),
                0.0,
                false,
                new DoubleOptional(),
                false);
      }
      a = a.transpose(1, 2).reshape(b, t, (long) heads * headDim); // (B, T, nh*d)
      x = x.add(o.forward(a)); // (B, T, H)
      h = postAttentionNorm.forward(x);
      return x.add(down.forward(torch.silu(gate.forward(h)).mul(up.forward(h)))); // (B, T, H)
    }

    /** Each key/value head serves heads/kvHeads query heads: (B, nkv, S, d) → (B, nh, S, d). */
    private Tensor repeatKv(Tensor x) {
      if (heads == kvHeads) {
        return x;
      }
      long b = x.size(0);
      long s = x.size(2);
      return x.unsqueeze(2)
          .expand(b, kvHeads, heads / kvHeads, s, headDim)
          .reshape(b, heads, s, headDim);
    }

    /** Rotate-half RoPE: x·cos + rotate_half(x)·sin, with rotate_half(a, b) = (−b, a). */
    private Tensor rope(Tensor x, Tensor cos, Tensor sin) {
      long half = headDim / 2;
      Tensor x1 = x.narrow(-1, 0, half); // (B, n, T, d/2)
      Tensor x2 = x.narrow(-1, half, half);
      Tensor rotated = torch.cat(new TensorArrayRef(new TensorVector(x2.neg(), x1)), -1);
      return x.mul(cos).add(rotated.mul(sin)); // (B, n, T, d)
    }

    /** The layer's projections, q, k, v, o, gate, up, down. */
    public List<Linear> projections() {
      return List.of(q, k, v, o, gate, up, down);
    }
  }
}
