package dev.whet.infer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.WhetException;
import dev.whet.data.Task;
import dev.whet.io.ChatTemplate;
import dev.whet.io.Json;
import dev.whet.io.Tokenizer;
import dev.whet.model.DecoderFiles;
import dev.whet.model.LlamaConfig;
import dev.whet.model.LlamaModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A decoder ready to generate: weights, tokenizer, end-of-sequence ids and chat template (if the
 * model has one), loaded from a Hugging Face model directory.
 */
public final class LanguageModel implements AutoCloseable {
  private final Path dir;
  private final Path weightsDir;
  private final LlamaConfig config;
  private final LlamaModel model;
  private final Tokenizer tokenizer;
  private final ChatTemplate template;
  private final List<Long> eosIds;
  private final Map<String, String> greedyTexts = new HashMap<>();

  private LanguageModel(
      Path dir,
      Path weightsDir,
      LlamaConfig config,
      LlamaModel model,
      Tokenizer tokenizer,
      ChatTemplate template,
      List<Long> eosIds) {
    this.dir = dir;
    this.weightsDir = weightsDir;
    this.config = config;
    this.model = model;
    this.tokenizer = tokenizer;
    this.template = template;
    this.eosIds = eosIds;
  }

  /**
   * Resolves a model: a run id or run directory (its {@code model/}), a model name under {@code
   * WHET_HOME/models}, a Hugging Face directory, or a LoRA adapter directory.
   */
  public static Path resolve(String runOrModel) {
    return dev.whet.model.ModelRef.resolve(runOrModel).dir();
  }

  /**
   * Loads a decoder directory, or an adapter directory (adapter_config.json): its base model with
   * the adapters applied, unmerged, and the tokenizer files saved beside the adapter.
   */
  public static LanguageModel load(Path dir) {
    DecoderFiles.Adapter adapter =
        DecoderFiles.isAdapter(dir) ? DecoderFiles.readAdapter(dir) : null;
    Path weights = adapter != null ? adapter.base() : dir;
    LlamaConfig config = LlamaConfig.read(weights.resolve("config.json"));
    LlamaModel model = LlamaModel.load(weights, adapter != null ? adapter.lora() : null);
    if (adapter != null) {
      DecoderFiles.loadAdapterWeights(model, dir);
    }
    // An adapter saved by Whet carries the tokenizer files; one from elsewhere may not.
    Path files = Files.isRegularFile(dir.resolve("tokenizer.json")) ? dir : weights;
    Tokenizer tokenizer = Tokenizer.load(files.resolve("tokenizer.json"), config.maxContext());
    ChatTemplate template = ChatTemplate.load(files);
    Set<Long> eos = new LinkedHashSet<>();
    config.eosTokenIds().forEach(i -> eos.add((long) i));
    // generation_config.json may list more (Llama 3: end of text and end of turn).
    Path gen = files.resolve("generation_config.json");
    if (Files.isRegularFile(gen)) {
      try {
        JsonNode e = Json.MAPPER.readTree(gen.toFile()).path("eos_token_id");
        if (e.isArray()) {
          e.forEach(x -> eos.add(x.asLong()));
        } else if (e.isNumber()) {
          eos.add(e.asLong());
        }
      } catch (IOException ex) {
        throw new WhetException(gen + ": not valid JSON (" + ex.getMessage() + ")", ex);
      }
    }
    if (template != null && !template.eosToken().isEmpty()) {
      long id = tokenizer.tokenId(template.eosToken());
      if (id >= 0) {
        eos.add(id);
      }
    }
    return new LanguageModel(
        dir, weights, config, model, tokenizer, template, new ArrayList<>(eos));
  }

  /**
   * Writes this model with any adapters merged as a whole Hugging Face directory: config.json,
   * model.safetensors, tokenizer files and chat template, whet.json.
   */
  public void exportMerged(Path out) {
    model.mergeLora();
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("task", Task.SFT);
    info.put("merged_from", dir.toAbsolutePath().normalize().toString());
    DecoderFiles.writeModel(model, weightsDir.resolve("config.json"), dir, out, info);
  }

  public Path dir() {
    return dir;
  }

  public LlamaConfig config() {
    return config;
  }

  public LlamaModel model() {
    return model;
  }

  public Tokenizer tokenizer() {
    return tokenizer;
  }

  /** The chat template, or null when the model has none. */
  public ChatTemplate chatTemplate() {
    return template;
  }

  /** Every id that ends generation. */
  public List<Long> eosIds() {
    return eosIds;
  }

  public Generator generator() {
    return new Generator(model, tokenizer, eosIds);
  }

  /**
   * The greedy continuation of {@code prompt}, at most {@code maxNewTokens} long, remembered for
   * this model's life: greedy decoding is deterministic, and the end-of-run evaluation asks for the
   * same held-out prompt twice (the base model's zero-shot answer and the fine-tune's, in the
   * generative baselines and again in the before/after samples).
   */
  public String greedyText(long[] prompt, int maxNewTokens) {
    return greedyTexts.computeIfAbsent(
        Arrays.toString(prompt) + "/" + maxNewTokens,
        k -> generator().generate(prompt, GenerationOptions.greedy(maxNewTokens), x -> {}).text());
  }

  /** The BOS id alone, to generate from nothing. */
  public long[] bosPrompt() {
    if (config.bosTokenId() < 0) {
      throw new WhetException(dir + "/config.json: no bos_token_id, so --bos cannot be used");
    }
    return new long[] {config.bosTokenId()};
  }

  /** A text prompt as the tokenizer encodes it (with BOS where the model adds one). */
  public long[] prompt(String text) {
    return tokenizer.encode(text);
  }

  /** A conversation rendered with the chat template, ending with the assistant's turn header. */
  public long[] chatPrompt(List<ChatTemplate.Message> messages) {
    if (template == null) {
      throw new WhetException(
          dir + ": the model has no chat template (tokenizer_config.json's chat_template)");
    }
    return tokenizer.encodeRaw(template.render(messages, true));
  }

  /** Frees the tokenizer and the model's weights now, not when the garbage collector runs. */
  @Override
  public void close() {
    tokenizer.close();
    model.close();
  }
}
