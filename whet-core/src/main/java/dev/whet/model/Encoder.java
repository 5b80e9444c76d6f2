package dev.whet.model;

import dev.whet.WhetException;
import dev.whet.engine.Engine;
import dev.whet.engine.Tensors;
import dev.whet.io.Safetensors;
import dev.whet.io.TensorData;
import dev.whet.io.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A pretrained BERT-family encoder loaded from a Hugging Face directory, with its tokenizer and
 * sentence-embedding pooling.
 */
public final class Encoder implements AutoCloseable {
  /** Checkpoint prefixes of task models that wrap the bare encoder. */
  public static final List<String> PREFIXES = List.of("bert.", "roberta.", "model.");

  private final Path dir;
  private final EncoderConfig config;
  private final BertModel model;
  private final Tokenizer tokenizer;
  private final Pooling pooling;
  private final boolean bf16;

  private Encoder(
      Path dir,
      EncoderConfig config,
      BertModel model,
      Tokenizer tokenizer,
      Pooling pooling,
      boolean bf16) {
    this.dir = dir;
    this.config = config;
    this.model = model;
    this.tokenizer = tokenizer;
    this.pooling = pooling;
    this.bf16 = bf16;
  }

  /** {@code bf16} or {@code fp32}: the weights' and the computation's precision. */
  public String precision() {
    return bf16 ? "bf16" : "fp32";
  }

  /**
   * Loads config.json, the safetensors weights and tokenizer.json from {@code dir}.
   *
   * @param maxLength longest input in tokens (special tokens included); 0 = the truncation the
   *     tokenizer JSON declares, else the model's maximum
   */
  public static Encoder load(Path dir, int maxLength) {
    return load(dir, maxLength, false);
  }

  /**
   * As {@link #load(Path, int)}, with every weight in bf16 when {@code bf16}: where the CPU has
   * native bf16 the matrix multiplies run about twice as fast, and the default model's embeddings
   * stay within cosine 0.9998 of fp32's (EncoderParityTest). Embeddings come back as fp32.
   */
  public static Encoder load(Path dir, int maxLength, boolean bf16) {
    Engine.init();
    Path configFile = dir.resolve("config.json");
    if (!Files.isRegularFile(configFile)) {
      throw new WhetException(dir + ": no config.json (not a Hugging Face model directory)");
    }
    EncoderConfig config = EncoderConfig.read(configFile);
    int declared = Tokenizer.declaredMaxLength(dir.resolve("tokenizer.json"));
    int limit = maxLength > 0 ? maxLength : declared > 0 ? declared : config.maxSequenceLength();
    limit = Math.min(limit, config.maxSequenceLength());
    Tokenizer tokenizer = Tokenizer.load(dir.resolve("tokenizer.json"), limit);
    BertModel model = BertModel.of(config, null);
    Map<String, TensorData> weights = Safetensors.readModelDir(dir);
    Weights.load(model, weights, PREFIXES, dir);
    model.eval();
    if (bf16) {
      model.to(torch.ScalarType.BFloat16, false);
    }
    model.fuseQkvForInference(); // an Encoder's weights never change again
    return new Encoder(dir, config, model, tokenizer, Pooling.read(dir), bf16);
  }

  public Path dir() {
    return dir;
  }

  public EncoderConfig config() {
    return config;
  }

  public BertModel model() {
    return model;
  }

  public Tokenizer tokenizer() {
    return tokenizer;
  }

  public Pooling pooling() {
    return pooling;
  }

  /** Last hidden states (B, T, H) of a padded batch, in fp32; the caller owns the graph mode. */
  public Tensor hidden(Tokenizer.Batch batch) {
    Tensor ids = Tensors.fromLongs(batch.ids(), batch.rows(), batch.width());
    Tensor mask = Tensors.fromLongs(batch.mask(), batch.rows(), batch.width());
    Tensor types = Tensors.fromLongs(batch.typeIds(), batch.rows(), batch.width());
    return model.forward(ids, mask, types).to(torch.ScalarType.Float);
  }

  /**
   * The last hidden state at each word's first sub-token (long texts in overlapping windows, see
   * {@link TokenWindows}): what a per-token linear probe reads. A word without a token of its own
   * gets zeros.
   */
  public float[][][] wordVectors(List<Tokenizer.WordTokens> texts) {
    float[][][] out = TokenWindows.perWord(texts, tokenizer, this::hidden);
    for (float[][] words : out) {
      for (int w = 0; w < words.length; w++) {
        if (words[w] == null) {
          words[w] = new float[config.hiddenSize()];
        }
      }
    }
    return out;
  }

  /** Sentence embeddings of {@code texts}, one row per text, computed in batches of 32. */
  public float[][] embed(List<String> texts) {
    return embed(model, tokenizer, pooling, texts);
  }

  /** Sentence embeddings of an already tokenized, padded batch. */
  public float[][] embed(Tokenizer.Batch batch) {
    return embed(model, pooling, batch);
  }

  /**
   * Sentence embeddings from any BERT-family encoder (a base model's, or the encoder inside a
   * fine-tuned classifier), in batches of 32, without autograd.
   */
  static float[][] embed(BertModel bert, Tokenizer tok, Pooling pooling, List<String> texts) {
    float[][] out = new float[texts.size()][];
    for (int start = 0; start < texts.size(); start += 32) {
      Tokenizer.Batch batch = tok.batch(texts.subList(start, Math.min(texts.size(), start + 32)));
      float[][] rows = embed(bert, pooling, batch);
      System.arraycopy(rows, 0, out, start, rows.length);
    }
    return out;
  }

  private static float[][] embed(BertModel bert, Pooling pooling, Tokenizer.Batch batch) {
    try (PointerScope scope = new PointerScope();
        InferenceMode guard = new InferenceMode()) {
      Tensor ids = Tensors.fromLongs(batch.ids(), batch.rows(), batch.width());
      Tensor mask = Tensors.fromLongs(batch.mask(), batch.rows(), batch.width());
      Tensor types = Tensors.fromLongs(batch.typeIds(), batch.rows(), batch.width());
      // Pooled in fp32 whatever the model's precision: a bf16 sum over tokens would round.
      Tensor hidden = bert.forward(ids, mask, types).to(torch.ScalarType.Float); // (B, T, H)
      return Tensors.toMatrix(pooling.apply(hidden, mask));
    }
  }

  @Override
  public void close() {
    tokenizer.close();
    model.close();
  }
}
