package dev.whet.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.WhetException;
import dev.whet.engine.Tensors;
import dev.whet.infer.LanguageModel;
import dev.whet.io.Json;
import dev.whet.io.Tokenizer;
import dev.whet.model.ClassifierModel;
import dev.whet.model.Encoder;
import dev.whet.model.ModelRef;
import dev.whet.model.ModelRef.Kind;
import dev.whet.model.Pooling;
import dev.whet.train.PrecisionChoice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;

/**
 * The models the server has in memory, at most {@code capacity}, least recently used unloaded
 * first. Each model directory is loaded once even when many requests ask for it at the same time.
 * Encoders, classifiers and taggers get a {@link MicroBatcher} (one worker thread per model);
 * decoders a lock, since generation runs one request at a time per model.
 */
final class LoadedModels implements AutoCloseable {
  private static final ObjectMapper JSON = Json.MAPPER;

  /** Micro-batching settings of encoder and classifier models. */
  record Batching(int maxBatch, Duration maxWait, int maxQueued, Duration timeout) {
    static final Batching DEFAULT =
        new Batching(32, Duration.ofMillis(2), 4096, Duration.ofSeconds(60));
  }

  /** One input of an encoder or classifier batch. */
  record Input(Op op, String text, String pair) {}

  enum Op {
    EMBED,
    CLASSIFY,
    TAG
  }

  /**
   * @param values an embedding, or label probabilities; null for a tagged text
   * @param tokens tokens the model read (after truncation), for usage
   * @param tagged a token classifier's words, tags and entities, else null
   */
  record Output(float[] values, int tokens, ClassifierModel.Tagged tagged) {
    Output(float[] values, int tokens) {
      this(values, tokens, null);
    }
  }

  /** A model ready to serve. */
  sealed interface Served permits BatchedModel, DecoderModel {
    Path dir();

    Kind kind();

    /** Unloads the model once the requests already accepted are done. */
    void unload();
  }

  /** An encoder or a classifier behind its batcher. */
  static final class BatchedModel implements Served {
    private final Path dir;
    private final Kind kind;
    private final MicroBatcher<Input, Output> batcher;
    private final Duration timeout;
    private final List<String> labels;
    private final boolean multiLabel;
    private final boolean pairs;
    private final int dimensions;

    BatchedModel(
        Path dir,
        Kind kind,
        Batching b,
        MicroBatcher.BatchFunction<Input, Output> fn,
        Runnable onClose,
        List<String> labels,
        boolean multiLabel,
        boolean pairs,
        int dimensions) {
      this.dir = dir;
      this.kind = kind;
      this.timeout = b.timeout();
      this.labels = labels;
      this.multiLabel = multiLabel;
      this.pairs = pairs;
      this.dimensions = dimensions;
      this.batcher =
          new MicroBatcher<>(
              dir.getFileName().toString(), b.maxBatch(), b.maxWait(), b.maxQueued(), fn, onClose);
    }

    @Override
    public Path dir() {
      return dir;
    }

    @Override
    public Kind kind() {
      return kind;
    }

    /** Label names (classifiers), else empty. */
    List<String> labels() {
      return labels;
    }

    boolean multiLabel() {
      return multiLabel;
    }

    /** Whether the classifier reads text pairs. */
    boolean pairs() {
      return pairs;
    }

    /** Width of the embeddings. */
    int dimensions() {
      return dimensions;
    }

    /** Runs a project's inputs through the batcher, waiting for their results. */
    List<Output> run(String project, List<Input> inputs) throws Exception {
      return batcher.process(project, inputs, timeout);
    }

    @Override
    public void unload() {
      batcher.close();
    }
  }

  /**
   * A decoder with its own platform thread: generations run there one at a time, in arrival order.
   * libtorch keeps its inference guards in native thread-locals, so the work must stay on one OS
   * thread from start to end, which a request's virtual thread does not promise.
   */
  static final class DecoderModel implements Served {
    /** Most generations waiting for the model before new ones are refused with 503. */
    static final int MAX_WAITING = 64;

    private final Path dir;
    private final LanguageModel model;
    private final ExecutorService thread;
    private final AtomicInteger waiting = new AtomicInteger();

    DecoderModel(Path dir, LanguageModel model) {
      this.dir = dir;
      this.model = model;
      this.thread =
          Executors.newSingleThreadExecutor(
              Thread.ofPlatform().name("generate-" + dir.getFileName()).daemon().factory());
    }

    @Override
    public Path dir() {
      return dir;
    }

    @Override
    public Kind kind() {
      return Kind.DECODER;
    }

    /**
     * Queues {@code work} for the model's thread.
     *
     * @throws MicroBatcher.Overloaded when too many generations wait already
     * @throws MicroBatcher.Closed when the model was unloaded
     */
    synchronized <T> CompletableFuture<T> submit(Function<LanguageModel, T> work) {
      if (thread.isShutdown()) {
        throw new MicroBatcher.Closed(dir.getFileName() + " was unloaded");
      }
      if (waiting.incrementAndGet() > MAX_WAITING) {
        waiting.decrementAndGet();
        throw new MicroBatcher.Overloaded(
            MAX_WAITING + " generations are already waiting for " + dir.getFileName());
      }
      CompletableFuture<T> f = new CompletableFuture<>();
      thread.execute(
          () -> {
            try {
              f.complete(work.apply(model));
            } catch (Throwable t) {
              f.completeExceptionally(t);
            } finally {
              waiting.decrementAndGet();
            }
          });
      return f;
    }

    /** The loaded model, for reading its tokenizer and template (thread-safe parts only). */
    LanguageModel model() {
      return model;
    }

    @Override
    public synchronized void unload() {
      if (!thread.isShutdown()) {
        // After the generations already queued; nothing can be queued behind it.
        thread.execute(model::close);
        thread.shutdown();
      }
    }
  }

  private static final ExecutorService LOADERS =
      Executors.newCachedThreadPool(Thread.ofPlatform().name("model-loader").daemon().factory());

  private final int capacity;
  private final Batching batching;
  // Access order: the first entry is the least recently used.
  private final LinkedHashMap<Path, CompletableFuture<Served>> models =
      new LinkedHashMap<>(16, 0.75f, true);
  private boolean closed;

  LoadedModels(int capacity, Batching batching) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1");
    }
    this.capacity = capacity;
    this.batching = batching;
  }

  /** What {@code dir} holds; {@link WhetException} when it is not a model directory. */
  static Kind kindOf(Path dir) {
    return ModelRef.kindOf(dir);
  }

  private static JsonNode readJson(Path file) {
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new WhetException(file.getFileName() + ": not valid JSON (" + e.getMessage() + ")");
    }
  }

  /** The model in {@code dir}, loading it (once) if needed. */
  Served get(Path dir) {
    Path key = dir.toAbsolutePath().normalize();
    CompletableFuture<Served> f;
    boolean loadHere = false;
    List<Served> evicted = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        throw new MicroBatcher.Closed("the server is shutting down");
      }
      f = models.get(key);
      if (f == null) {
        f = new CompletableFuture<>();
        models.put(key, f);
        loadHere = true;
        evicted = evictBeyondCapacity();
      }
    }
    evicted.forEach(Served::unload);
    if (loadHere) {
      // Loaded on a platform thread: libtorch's guards live in native thread-locals, which a
      // virtual request thread may not keep.
      CompletableFuture<Served> loading = f;
      LOADERS.execute(
          () -> {
            try {
              loading.complete(load(key));
            } catch (Throwable t) {
              synchronized (this) {
                models.remove(key, loading);
              }
              loading.completeExceptionally(t);
            }
          });
    }
    try {
      return f.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    }
  }

  /**
   * Runs {@code work} on the model of {@code dir}; if the model was unloaded between lookup and use
   * (evicted by another request), loads it again once.
   */
  <T> T with(Path dir, Function<Served, T> work) {
    try {
      return work.apply(get(dir));
    } catch (MicroBatcher.Closed e) {
      return work.apply(get(dir));
    }
  }

  /** Unloads the model of {@code dir} if it is loaded (e.g. its files were deleted). */
  void unload(Path dir) {
    CompletableFuture<Served> f;
    synchronized (this) {
      f = models.remove(dir.toAbsolutePath().normalize());
    }
    if (f != null) {
      f.thenAccept(Served::unload);
    }
  }

  /** Directories of the models in memory, least recently used first. */
  synchronized List<Path> loaded() {
    return new ArrayList<>(models.keySet());
  }

  private List<Served> evictBeyondCapacity() {
    List<Served> out = new ArrayList<>();
    Iterator<Map.Entry<Path, CompletableFuture<Served>>> it = models.entrySet().iterator();
    int excess = models.size() - capacity;
    while (excess > 0 && it.hasNext()) {
      CompletableFuture<Served> f = it.next().getValue();
      // A model still loading is left alone (its loader is waiting for it).
      if (f.isDone() && !f.isCompletedExceptionally()) {
        out.add(f.join());
        it.remove();
        excess--;
      }
    }
    return out;
  }

  private Served load(Path dir) {
    Kind kind = kindOf(dir);
    return switch (kind) {
      case DECODER -> new DecoderModel(dir, LanguageModel.load(dir));
      case ENCODER -> encoder(dir);
      case CLASSIFIER -> classifier(dir);
      case TAGGER -> tagger(dir);
      case OTHER ->
          throw new WhetException(dir.getFileName() + ": this model's task is not served");
    };
  }

  private BatchedModel encoder(Path dir) {
    // Served in bf16 where that measured clearly faster on this machine (cosine >= 0.999 to fp32).
    Encoder encoder =
        Encoder.load(dir, 0, PrecisionChoice.forInference("auto", dir).equals("bf16"));
    return new BatchedModel(
        dir,
        Kind.ENCODER,
        batching,
        inputs -> {
          List<Output> out = new ArrayList<>(inputs.size());
          for (int start = 0; start < inputs.size(); start += 32) {
            List<Input> chunk = inputs.subList(start, Math.min(inputs.size(), start + 32));
            Tokenizer.Batch batch = encoder.tokenizer().batch(texts(chunk));
            float[][] rows = encoder.embed(batch);
            for (int i = 0; i < rows.length; i++) {
              out.add(new Output(rows[i], batch.lengths()[i]));
            }
          }
          return out;
        },
        encoder::close,
        List.of(),
        false,
        false,
        encoder.config().hiddenSize());
  }

  private BatchedModel classifier(Path dir) {
    ClassifierModel model = ClassifierModel.load(dir);
    // Embeddings of a fine-tuned classifier: its encoder with the head's pooling, L2-normalised
    // like the sentence-embedding bases it is trained from.
    Pooling pooling = new Pooling(model.module().pooling().mode(), true);
    boolean pairs = model.task() == dev.whet.data.Task.PAIR_CLASSIFICATION;
    return new BatchedModel(
        dir,
        Kind.CLASSIFIER,
        batching,
        inputs -> {
          Output[] out = new Output[inputs.size()];
          for (Op op : Op.values()) {
            List<Integer> at = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) {
              if (inputs.get(i).op() == op) {
                at.add(i);
              }
            }
            for (int start = 0; start < at.size(); start += 32) {
              List<Integer> idx = at.subList(start, Math.min(at.size(), start + 32));
              List<Input> chunk = idx.stream().map(inputs::get).toList();
              Tokenizer.Batch batch = encode(model.tokenizer(), chunk);
              float[][] rows =
                  op == Op.CLASSIFY
                      ? compute(() -> model.probabilities(model.logits(batch)))
                      : compute(
                          () -> {
                            Tensor mask =
                                Tensors.fromLongs(batch.mask(), batch.rows(), batch.width());
                            Tensor hidden =
                                model
                                    .module()
                                    .bert()
                                    .forward(
                                        Tensors.fromLongs(batch.ids(), batch.rows(), batch.width()),
                                        mask,
                                        Tensors.fromLongs(
                                            batch.typeIds(), batch.rows(), batch.width()));
                            return pooling.apply(hidden, mask); // (B, H)
                          });
              for (int i = 0; i < idx.size(); i++) {
                out[idx.get(i)] = new Output(rows[i], batch.lengths()[i]);
              }
            }
          }
          return List.of(out);
        },
        model::close,
        model.labels(),
        model.multiLabel(),
        pairs,
        model.config().hiddenSize());
  }

  private BatchedModel tagger(Path dir) {
    ClassifierModel model = ClassifierModel.load(dir);
    return new BatchedModel(
        dir,
        Kind.TAGGER,
        batching,
        inputs -> {
          List<Output> out = new ArrayList<>(inputs.size());
          for (ClassifierModel.Tagged t : model.tag(texts(inputs), null)) {
            out.add(new Output(null, t.tokens(), t));
          }
          return out;
        },
        model::close,
        model.labels(),
        false,
        false,
        model.config().hiddenSize());
  }

  private static List<String> texts(List<Input> inputs) {
    return inputs.stream().map(Input::text).toList();
  }

  /** Tokenizes texts (or pairs) and pads them into one batch. */
  private static Tokenizer.Batch encode(Tokenizer tok, List<Input> inputs) {
    long[][] rows = new long[inputs.size()][];
    long[][] types = new long[inputs.size()][];
    for (int i = 0; i < rows.length; i++) {
      Input in = inputs.get(i);
      Tokenizer.Encoded e =
          in.pair() == null
              ? new Tokenizer.Encoded(tok.encode(in.text()), null)
              : tok.encodePair(in.text(), in.pair());
      rows[i] = e.ids();
      types[i] = e.typeIds() != null ? e.typeIds() : new long[e.ids().length];
    }
    return Tokenizer.Batch.pad(rows, types, tok.padId());
  }

  /** Runs a forward pass without autograd and copies the (B, N) result out of native memory. */
  private static float[][] compute(Supplier<Tensor> forward) {
    try (PointerScope scope = new PointerScope();
        InferenceMode guard = new InferenceMode()) {
      return Tensors.toMatrix(forward.get());
    }
  }

  @Override
  public void close() {
    List<CompletableFuture<Served>> all;
    synchronized (this) {
      closed = true;
      all = new ArrayList<>(models.values());
      models.clear();
    }
    all.forEach(f -> f.thenAccept(Served::unload));
  }
}
