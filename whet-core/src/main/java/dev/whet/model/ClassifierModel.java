package dev.whet.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.WhetException;
import dev.whet.data.Task;
import dev.whet.engine.Engine;
import dev.whet.engine.Tensors;
import dev.whet.io.DiskFiles;
import dev.whet.io.Json;
import dev.whet.io.Safetensors;
import dev.whet.io.TensorData;
import dev.whet.io.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A text classifier: encoder + head, its tokenizer and label names. Built from a base model for
 * training, or loaded from a saved directory in Hugging Face layout ({@code config.json} with
 * {@code id2label}, {@code model.safetensors} with {@code bert.*} and {@code classifier.*}, {@code
 * tokenizer.json}) plus {@code whet.json} (task, labels, pooling, base, method).
 */
public final class ClassifierModel implements AutoCloseable {
  static final ObjectMapper JSON = Json.MAPPER;

  /** Tasks: {@code classify} (one label), {@code multilabel}, {@code pair} (two texts). */
  private final Task task;

  private final List<String> labels;
  private final EncoderClassifier module;
  private final Tokenizer tokenizer;
  private final EncoderConfig config;
  private final Path configSource;
  private final Path tokenizerSource;
  private final Map<String, Object> info;

  private ClassifierModel(
      String task,
      List<String> labels,
      EncoderClassifier module,
      Tokenizer tokenizer,
      EncoderConfig config,
      Path configSource,
      Path tokenizerSource,
      Map<String, Object> info) {
    this.task = Task.parse(task);
    this.labels = List.copyOf(labels);
    this.module = module;
    this.tokenizer = tokenizer;
    this.config = config;
    this.configSource = configSource;
    this.tokenizerSource = tokenizerSource;
    this.info = info;
  }

  /**
   * A new classifier on a pretrained encoder: the base weights loaded, the head freshly
   * initialised.
   *
   * @param dropout on hidden states and before the head
   * @param attentionDropout on the attention probabilities
   * @param pooling how the head reads the text, or null for the base model's sentence pooling mode
   *     (mean when it declares none), not normalised
   * @param lora adapters to add, or null
   */
  public static ClassifierModel fromBase(
      Path baseDir,
      String task,
      List<String> labels,
      int maxLength,
      double dropout,
      double attentionDropout,
      Pooling pooling,
      Lora lora,
      Map<String, Object> info) {
    Engine.init();
    Path configFile = baseDir.resolve("config.json");
    EncoderConfig config = EncoderConfig.read(configFile);
    EncoderConfig withDropout = config.withDropout(dropout, attentionDropout);
    Tokenizer tokenizer =
        Tokenizer.load(
            baseDir.resolve("tokenizer.json"), Math.min(maxLength, config.maxSequenceLength()));
    BertModel bert = BertModel.of(withDropout, lora);
    Weights.load(bert, Safetensors.readModelDir(baseDir), Encoder.PREFIXES, baseDir);
    Pooling textPooling =
        pooling != null ? pooling : new Pooling(Pooling.read(baseDir).mode(), false);
    EncoderClassifier module =
        new EncoderClassifier(
            bert,
            config.hiddenSize(),
            labels.size(),
            Task.parse(task) == Task.TOKEN_CLASSIFICATION ? null : textPooling,
            dropout);
    return new ClassifierModel(
        task,
        labels,
        module,
        tokenizer,
        config,
        configFile,
        baseDir.resolve("tokenizer.json"),
        info);
  }

  /** The encoder's parameter prefix inside {@link EncoderClassifier}. */
  private static final String OWN_PREFIX = "bert.";

  /** Transformers' prefix for the encoder of a sequence classifier of this family. */
  static String encoderPrefix(String modelType) {
    return modelType.equals("bert") ? "bert." : "roberta.";
  }

  /** Transformers' class for this family's sequence or token classifier. */
  static String architecture(String modelType, boolean perToken) {
    String family =
        switch (modelType) {
          case "roberta" -> "Roberta";
          case "xlm-roberta" -> "XLMRoberta";
          default -> "Bert";
        };
    return family + (perToken ? "ForTokenClassification" : "ForSequenceClassification");
  }

  /**
   * Loads a classifier saved by {@link #save}, or a token classifier saved by Transformers ({@code
   * config.json} naming a {@code …ForTokenClassification} with its {@code id2label}; no pooler is
   * involved, so it predicts there and here alike).
   */
  public static ClassifierModel load(Path dir) {
    Engine.init();
    Path whetJson = dir.resolve("whet.json");
    Path configFile = dir.resolve("config.json");
    JsonNode w = Files.isRegularFile(whetJson) ? readJson(whetJson) : tokenClassifierInfo(dir);
    String task = w.path("task").asText(Task.CLASSIFICATION.cliName());
    List<String> labels = new ArrayList<>();
    w.path("labels").forEach(l -> labels.add(l.asText()));
    if (labels.isEmpty()) {
      throw new WhetException(whetJson + ": field 'labels' is missing or empty");
    }
    EncoderConfig config = EncoderConfig.read(configFile);
    Tokenizer tokenizer =
        Tokenizer.load(
            dir.resolve("tokenizer.json"), w.path("max_length").asInt(config.maxSequenceLength()));
    Pooling.Mode mode =
        Pooling.Mode.valueOf(w.path("pooling").asText("MEAN").toUpperCase(java.util.Locale.ROOT));
    EncoderClassifier module =
        new EncoderClassifier(
            BertModel.of(config, null),
            config.hiddenSize(),
            labels.size(),
            Task.parse(task) == Task.TOKEN_CLASSIFICATION
                ? null
                : new Pooling(mode, w.path("normalize").asBoolean(false)),
            0);
    // Saved under the family's own prefix (roberta.* for RoBERTa and XLM-R), read as bert.*.
    String prefix = encoderPrefix(config.modelType());
    Map<String, TensorData> saved = new LinkedHashMap<>();
    Safetensors.readModelDir(dir)
        .forEach(
            (n, t) -> {
              String name = n.startsWith(prefix) ? OWN_PREFIX + n.substring(prefix.length()) : n;
              saved.put(name, new TensorData(name, t.dtype(), t.shape(), t.data()));
            });
    Map<String, TensorData> rest = Weights.load(module, saved, List.of(), dir);
    rest.keySet().removeIf(k -> k.startsWith(OWN_PREFIX + "pooler."));
    if (!rest.isEmpty()) {
      throw new WhetException(
          dir + ": unexpected tensor '" + rest.keySet().iterator().next() + "'");
    }
    module.eval();
    @SuppressWarnings("unchecked")
    Map<String, Object> info = JSON.convertValue(w, LinkedHashMap.class);
    return new ClassifierModel(
        task, labels, module, tokenizer, config, configFile, dir.resolve("tokenizer.json"), info);
  }

  private static JsonNode readJson(Path file) {
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new WhetException(file + ": not valid JSON (" + e.getMessage() + ")", e);
    }
  }

  /**
   * What whet.json would say of a Transformers token classifier: task and labels from its
   * config.json.
   */
  private static JsonNode tokenClassifierInfo(Path dir) {
    Path configFile = dir.resolve("config.json");
    if (!Files.isRegularFile(configFile)) {
      throw new WhetException(dir + ": no whet.json (not a model saved by `whet train`)");
    }
    JsonNode cfg = readJson(configFile);
    String architecture = cfg.path("architectures").path(0).asText("");
    JsonNode id2label = cfg.path("id2label");
    if (!architecture.endsWith("ForTokenClassification") || id2label.isEmpty()) {
      throw new WhetException(
          dir
              + ": no whet.json (not a model saved by `whet train`), and config.json names no"
              + " token classifier with id2label that Whet could load as it is");
    }
    ObjectNode w = JSON.createObjectNode();
    w.put("task", Task.TOKEN_CLASSIFICATION.cliName());
    var labels = w.putArray("labels");
    for (int i = 0; i < id2label.size(); i++) {
      JsonNode label = id2label.path(Integer.toString(i));
      if (label.isMissingNode()) {
        throw new WhetException(configFile + ": id2label has no entry for " + i);
      }
      labels.add(label.asText());
    }
    return w; // no "base": what it was fine-tuned from is not recorded
  }

  public Task task() {
    return task;
  }

  public boolean multiLabel() {
    return task == Task.MULTI_LABEL;
  }

  public List<String> labels() {
    return labels;
  }

  public EncoderClassifier module() {
    return module;
  }

  public Tokenizer tokenizer() {
    return tokenizer;
  }

  public EncoderConfig config() {
    return config;
  }

  /** Logits (B, C) of a padded batch; the caller decides the graph mode. */
  public Tensor logits(Tokenizer.Batch b) {
    Tensor ids = Tensors.fromLongs(b.ids(), b.rows(), b.width());
    Tensor mask = Tensors.fromLongs(b.mask(), b.rows(), b.width());
    Tensor types = Tensors.fromLongs(b.typeIds(), b.rows(), b.width());
    return module.forward(ids, mask, types);
  }

  /** Probabilities: softmax over labels, or an independent sigmoid per label for multi-label. */
  public Tensor probabilities(Tensor logits) {
    return multiLabel() ? torch.sigmoid(logits) : torch.softmax(logits, 1);
  }

  /**
   * Class probabilities for each text (pairs: second texts, or null), in batches.
   *
   * @return (texts, labels)
   */
  public float[][] predict(List<String> texts, List<String> pairs) {
    float[][] out = new float[texts.size()][];
    module.eval();
    for (int start = 0; start < texts.size(); start += 32) {
      int end = Math.min(texts.size(), start + 32);
      try (PointerScope scope = new PointerScope();
          InferenceMode guard = new InferenceMode()) {
        long[][] rows = new long[end - start][];
        long[][] types = new long[end - start][];
        for (int i = start; i < end; i++) {
          Tokenizer.Encoded e =
              pairs == null
                  ? new Tokenizer.Encoded(tokenizer.encode(texts.get(i)), null)
                  : tokenizer.encodePair(texts.get(i), pairs.get(i));
          rows[i - start] = e.ids();
          types[i - start] = e.typeIds() != null ? e.typeIds() : new long[e.ids().length];
        }
        Tokenizer.Batch b = Tokenizer.Batch.pad(rows, types, tokenizer.padId());
        float[][] p = Tensors.toMatrix(probabilities(logits(b)));
        System.arraycopy(p, 0, out, start, p.length);
      }
    }
    return out;
  }

  /**
   * Label probabilities for every word of each text, for a token classifier: the texts' windows
   * ({@link TokenWindows}) run in batches, each word read at its first sub-token in its own window.
   *
   * @return per text, per word, the probabilities over {@link #labels()}; a word the tokenizer gave
   *     no token of its own gets all its probability on {@code O} (or the first label)
   */
  public float[][][] tagWords(List<Tokenizer.WordTokens> texts) {
    if (!module.perToken()) {
      throw new IllegalStateException("not a token classifier");
    }
    module.eval();
    float[][][] out = TokenWindows.perWord(texts, tokenizer, b -> torch.softmax(logits(b), 2));
    int outside = Math.max(0, labels.indexOf("O"));
    for (float[][] words : out) {
      for (int w = 0; w < words.length; w++) {
        if (words[w] == null) {
          words[w] = new float[labels.size()];
          words[w][outside] = 1f;
        }
      }
    }
    return out;
  }

  /** The most probable tag of every word, from {@link #tagWords}' probabilities. */
  public List<List<String>> bestTags(float[][][] probs) {
    List<List<String>> out = new ArrayList<>(probs.length);
    for (float[][] sentence : probs) {
      List<String> tags = new ArrayList<>(sentence.length);
      for (float[] p : sentence) {
        tags.add(labels.get(argmax(p)));
      }
      out.add(tags);
    }
    return out;
  }

  private static int argmax(float[] p) {
    int arg = 0;
    for (int c = 1; c < p.length; c++) {
      if (p[c] > p[arg]) {
        arg = c;
      }
    }
    return arg;
  }

  /** Each text's words, encoded for {@link #tagWords}. */
  public List<Tokenizer.WordTokens> encodeWords(List<List<String>> words) {
    return encodeWords(tokenizer, words);
  }

  /** Words joined by spaces and aligned to {@code tok}'s sub-tokens. */
  public static List<Tokenizer.WordTokens> encodeWords(Tokenizer tok, List<List<String>> words) {
    List<Tokenizer.WordTokens> out = new ArrayList<>(words.size());
    for (List<String> w : words) {
      dev.whet.data.Words.Joined j = dev.whet.data.Words.join(w);
      out.add(tok.wordTokens(j.text(), j.spans()));
    }
    return out;
  }

  /**
   * An entity found in a text.
   *
   * @param start first character, in UTF-16 units of the text as given
   * @param end one past the last character
   * @param score mean probability of the entity's tags over its words
   */
  public record Span(String type, String text, int start, int end, double score) {}

  /**
   * A text tagged by a token classifier.
   *
   * @param words the words' {@code {start, end}} in the text
   * @param tags one per word
   * @param entities strict IOB2 entities of the tags, with character offsets
   * @param tokens sub-tokens the model read, for usage
   */
  public record Tagged(List<int[]> words, List<String> tags, List<Span> entities, int tokens) {}

  /**
   * Tags texts: raw text is split into words ({@link dev.whet.data.Words#split}), or its words are
   * given (CoNLL-style input, joined by spaces).
   *
   * @param words per text its words or null to split it; or null to split every text
   */
  public List<Tagged> tag(List<String> texts, List<List<String>> words) {
    List<String> joined = new ArrayList<>(texts.size());
    List<List<int[]>> spans = new ArrayList<>(texts.size());
    List<Tokenizer.WordTokens> encoded = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      String text = texts.get(i);
      List<int[]> ws;
      if (words != null && words.get(i) != null) {
        dev.whet.data.Words.Joined j = dev.whet.data.Words.join(words.get(i));
        text = j.text();
        ws = j.spans();
      } else {
        ws = dev.whet.data.Words.split(text);
      }
      joined.add(text);
      spans.add(ws);
      encoded.add(tokenizer.wordTokens(text, ws));
    }
    float[][][] probs = tagWords(encoded);
    List<List<String>> allTags = bestTags(probs);
    List<Tagged> out = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      List<String> tags = allTags.get(i);
      float[] best = new float[probs[i].length];
      for (int w = 0; w < probs[i].length; w++) {
        best[w] = probs[i][w][argmax(probs[i][w])];
      }
      List<Span> entities = new ArrayList<>();
      for (var e : dev.whet.eval.EntityMetrics.entities(tags)) {
        int start = spans.get(i).get(e.start())[0];
        int end = spans.get(i).get(e.end() - 1)[1];
        double score = 0;
        for (int w = e.start(); w < e.end(); w++) {
          score += best[w];
        }
        entities.add(
            new Span(
                e.type(),
                joined.get(i).substring(start, end),
                start,
                end,
                score / (e.end() - e.start())));
      }
      int tokens = encoded.get(i).ids().length;
      out.add(new Tagged(spans.get(i), tags, entities, tokens));
    }
    return out;
  }

  /**
   * Sentence embeddings from this model's (fine-tuned) encoder with the given pooling: how the
   * forgetting check compares it with the base model on general data.
   */
  public float[][] embed(List<String> texts, Pooling pooling) {
    module.eval();
    return Encoder.embed(module.bert(), tokenizer, pooling, texts);
  }

  /** What whet.json says about this model (base, method, labels...). */
  public Map<String, Object> info() {
    return info;
  }

  /**
   * Sets the head to a fitted linear model (SetFit's logistic regression on this encoder's pooled
   * vectors).
   *
   * @param linear per label, its weights and then its bias
   */
  public void setHead(float[][] linear) {
    int hidden = config.hiddenSize();
    float[] w = new float[labels.size() * hidden];
    float[] b = new float[labels.size()];
    for (int c = 0; c < labels.size(); c++) {
      System.arraycopy(linear[c], 0, w, c * hidden, hidden);
      b[c] = linear[c][hidden];
    }
    try (org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
      module.classifier().weight().copy_(Tensors.fromFloats(w, labels.size(), hidden));
      module.classifier().bias().copy_(Tensors.fromFloats(b, labels.size()));
    }
  }

  /** Folds LoRA adapters into the encoder weights (same function, plain model). */
  public void mergeLora() {
    module.bert().mergeLora();
  }

  /**
   * Writes the model in Hugging Face layout to {@code dir}, atomically (temp directory, rename).
   */
  public void save(Path dir, Map<String, Object> extraInfo) {
    DiskFiles.replaceDirectory(
        dir,
        "the model",
        tmp -> {
          ObjectNode cfg = (ObjectNode) JSON.readTree(configSource.toFile());
          cfg.putArray("architectures").add(architecture(config.modelType(), module.perToken()));
          ObjectNode id2label = cfg.putObject("id2label");
          ObjectNode label2id = cfg.putObject("label2id");
          for (int i = 0; i < labels.size(); i++) {
            id2label.put(Integer.toString(i), labels.get(i));
            label2id.put(labels.get(i), i);
          }
          cfg.put("num_labels", labels.size());
          if (!module.perToken()) {
            // Transformers' BertForSequenceClassification classifies the [CLS] vector after a
            // trained tanh pooler; this head reads the pooling below, without a pooler, so loading
            // this directory there gives a newly initialised pooler and different predictions. Say
            // so in the config a user will open (README, "The saved classifier and Transformers").
            // A token classifier has no pooler: it predicts the same labels there.
            String pooling = module.pooling().mode().name().toLowerCase(java.util.Locale.ROOT);
            cfg.put("whet_pooling", pooling);
            cfg.put(
                "whet_note",
                "Trained by Whet with "
                    + pooling
                    + " pooling and no pooler layer: load it with Whet (whet.json) for the trained"
                    + " predictions. Transformers' "
                    + architecture(config.modelType(), false)
                    + " would classify [CLS] through its own newly initialised layers instead.");
            cfg.put(
                "problem_type",
                multiLabel() ? "multi_label_classification" : "single_label_classification");
          }
          Files.writeString(
              tmp.resolve("config.json"),
              JSON.writerWithDefaultPrettyPrinter().writeValueAsString(cfg));
          Map<String, TensorData> tensors = new LinkedHashMap<>();
          String prefix = encoderPrefix(config.modelType());
          Weights.parameters(module)
              .forEach(
                  (n, t) -> {
                    String name =
                        n.startsWith(OWN_PREFIX) ? prefix + n.substring(OWN_PREFIX.length()) : n;
                    tensors.put(name, Weights.toData(name, t));
                  });
          Safetensors.write(tmp.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
          Files.copy(tokenizerSource, tmp.resolve("tokenizer.json"));
          Map<String, Object> w = new LinkedHashMap<>(info);
          w.putAll(extraInfo);
          w.put("task", task.cliName());
          w.put("labels", labels);
          if (!module.perToken()) {
            w.put("pooling", module.pooling().mode().name().toLowerCase(java.util.Locale.ROOT));
            if (module.pooling().normalize()) {
              w.put("normalize", true); // the head reads unit vectors (SetFit's)
            }
          }
          w.put("max_length", tokenizer.maxLength());
          Files.writeString(
              tmp.resolve("whet.json"),
              JSON.writerWithDefaultPrettyPrinter().writeValueAsString(w));
        });
  }

  @Override
  public void close() {
    tokenizer.close();
    module.close();
  }
}
