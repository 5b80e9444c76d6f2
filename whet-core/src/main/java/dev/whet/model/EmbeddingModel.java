package dev.whet.model;

import dev.whet.engine.Engine;
import dev.whet.engine.Tensors;
import dev.whet.io.DiskFiles;
import dev.whet.io.Json;
import dev.whet.io.Safetensors;
import dev.whet.io.SentenceTransformersFiles;
import dev.whet.io.TensorData;
import dev.whet.io.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * A sentence-embedding model being fine-tuned: a pretrained encoder with its own pooling and
 * normalisation (kept as the base declares them), trained on pairs (embed, similarity). Saved in
 * Hugging Face layout with the sentence-transformers files, so {@link Encoder} — and
 * sentence-transformers — load it as they load the base.
 */
public final class EmbeddingModel implements AutoCloseable {
  private final BertModel bert;
  private final Pooling pooling;
  private final Tokenizer tokenizer;
  private final EncoderConfig config;
  private final Path baseDir;
  private final Map<String, Object> info;

  private EmbeddingModel(
      BertModel bert,
      Pooling pooling,
      Tokenizer tokenizer,
      EncoderConfig config,
      Path baseDir,
      Map<String, Object> info) {
    this.bert = bert;
    this.pooling = pooling;
    this.tokenizer = tokenizer;
    this.config = config;
    this.baseDir = baseDir;
    this.info = Map.copyOf(info);
  }

  /**
   * The base encoder, its weights loaded, ready to train.
   *
   * @param lora adapters to add, or null
   * @param info what whet.json records (task, base…), beside what {@link #save} is given
   */
  public static EmbeddingModel fromBase(
      Path baseDir,
      int maxLength,
      double dropout,
      double attentionDropout,
      Lora lora,
      Map<String, Object> info) {
    Engine.init();
    EncoderConfig config = EncoderConfig.read(baseDir.resolve("config.json"));
    Tokenizer tokenizer =
        Tokenizer.load(
            baseDir.resolve("tokenizer.json"), Math.min(maxLength, config.maxSequenceLength()));
    BertModel bert = BertModel.of(config.withDropout(dropout, attentionDropout), lora);
    Weights.load(bert, Safetensors.readModelDir(baseDir), Encoder.PREFIXES, baseDir);
    return new EmbeddingModel(bert, Pooling.read(baseDir), tokenizer, config, baseDir, info);
  }

  public BertModel bert() {
    return bert;
  }

  public Pooling pooling() {
    return pooling;
  }

  public Tokenizer tokenizer() {
    return tokenizer;
  }

  public EncoderConfig config() {
    return config;
  }

  /** Pooled (and, as the base says, normalised) embeddings (B, H) of a padded batch. */
  public Tensor embed(Tokenizer.Batch b) {
    Tensor ids = Tensors.fromLongs(b.ids(), b.rows(), b.width());
    Tensor mask = Tensors.fromLongs(b.mask(), b.rows(), b.width());
    return pooling.apply(bert.forward(ids, mask, null), mask);
  }

  public void mergeLora() {
    bert.mergeLora();
  }

  /**
   * Writes the model to {@code dir} atomically: config.json, model.safetensors (the encoder's own
   * names, as the base's), tokenizer.json, the sentence-transformers files for the base's pooling,
   * and whet.json (this model's info and {@code extraInfo}: task, base, training facts).
   */
  public void save(Path dir, Map<String, Object> extraInfo) {
    DiskFiles.replaceDirectory(
        dir,
        "the model",
        tmp -> {
          Files.copy(baseDir.resolve("config.json"), tmp.resolve("config.json"));
          Map<String, TensorData> tensors = new LinkedHashMap<>();
          Weights.parameters(bert).forEach((n, t) -> tensors.put(n, Weights.toData(n, t)));
          Safetensors.write(tmp.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
          Files.copy(baseDir.resolve("tokenizer.json"), tmp.resolve("tokenizer.json"));
          SentenceTransformersFiles.write(
              tmp,
              config.hiddenSize(),
              pooling.mode() == Pooling.Mode.CLS,
              pooling.normalize(),
              tokenizer.maxLength());
          Map<String, Object> w = new LinkedHashMap<>(info);
          w.putAll(extraInfo);
          w.put("max_length", tokenizer.maxLength());
          Files.writeString(
              tmp.resolve("whet.json"),
              Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(w));
        });
  }

  @Override
  public void close() {
    tokenizer.close();
    bert.close();
  }
}
