package dev.whet.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.WhetException;
import dev.whet.io.DiskFiles;
import dev.whet.io.Json;
import dev.whet.io.Safetensors;
import dev.whet.io.TensorData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * A decoder on disk in Hugging Face layout: a whole model (config.json, model.safetensors,
 * tokenizer files), or a LoRA adapter in PEFT's layout (adapter_config.json naming the base model,
 * adapter_model.safetensors with only the adapter tensors, keyed {@code base_model.model.<name>}),
 * so either loads in other tools too.
 */
public final class DecoderFiles {
  private DecoderFiles() {}

  /** Files copied from the base model beside the weights: tokenizer, chat template, generation. */
  public static final List<String> TOKENIZER_FILES =
      List.of(
          "tokenizer.json",
          "tokenizer_config.json",
          "special_tokens_map.json",
          "generation_config.json");

  public static final String ADAPTER_CONFIG = "adapter_config.json";
  public static final String ADAPTER_WEIGHTS = "adapter_model.safetensors";
  static final String PEFT_PREFIX = "base_model.model.";
  private static final ObjectMapper JSON = Json.MAPPER;

  /** A saved adapter: the base model directory it belongs to and its settings. */
  public record Adapter(Path base, Lora lora) {}

  /** Whether {@code dir} holds an adapter rather than a whole model. */
  public static boolean isAdapter(Path dir) {
    return Files.isRegularFile(dir.resolve(ADAPTER_CONFIG))
        && !Files.isRegularFile(dir.resolve("config.json"));
  }

  /**
   * Writes a whole model: the base's config.json, every parameter (adapters must be merged first),
   * the tokenizer files found in {@code tokenizerDir}, and whet.json with {@code info}.
   */
  public static void writeModel(
      LlamaModel model, Path baseConfig, Path tokenizerDir, Path out, Map<String, Object> info) {
    Map<String, TensorData> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> p : Weights.parameters(model).entrySet()) {
      if (p.getKey().contains(".lora_")) {
        throw new IllegalStateException("merge the adapters before writing a whole model");
      }
      tensors.put(p.getKey(), Weights.toData(p.getKey(), p.getValue()));
    }
    writeDir(
        out,
        tmp -> {
          Files.copy(baseConfig, tmp.resolve("config.json"));
          Safetensors.write(tmp.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
          copyTokenizer(tokenizerDir, tmp);
          writeInfo(tmp, info);
        });
  }

  /**
   * Writes only the adapters of {@code model}: adapter_config.json (PEFT's fields, the base as an
   * absolute path), adapter_model.safetensors, the tokenizer files of {@code tokenizerDir} and
   * whet.json with {@code info}.
   */
  public static void writeAdapter(
      LlamaModel model,
      Lora lora,
      Path base,
      Path tokenizerDir,
      Path out,
      Map<String, Object> info) {
    Map<String, TensorData> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> p : Weights.parameters(model).entrySet()) {
      if (p.getKey().contains(".lora_")) {
        String name = PEFT_PREFIX + p.getKey();
        tensors.put(name, Weights.toData(name, p.getValue()));
      }
    }
    ObjectNode cfg = JSON.createObjectNode();
    cfg.put("peft_type", "LORA");
    cfg.put("task_type", "CAUSAL_LM");
    cfg.put("base_model_name_or_path", base.toAbsolutePath().normalize().toString());
    cfg.put("r", lora.rank());
    cfg.put("lora_alpha", lora.alpha());
    cfg.put("lora_dropout", lora.dropout());
    cfg.put("bias", "none");
    ArrayNode targets = cfg.putArray("target_modules");
    lora.targets().forEach(t -> targets.add(t + "_proj"));
    writeDir(
        out,
        tmp -> {
          Files.writeString(
              tmp.resolve(ADAPTER_CONFIG),
              JSON.writerWithDefaultPrettyPrinter().writeValueAsString(cfg));
          Safetensors.write(tmp.resolve(ADAPTER_WEIGHTS), tensors, Map.of("format", "pt"));
          copyTokenizer(tokenizerDir, tmp);
          writeInfo(tmp, info);
        });
  }

  /** Reads adapter_config.json; the base must exist. */
  public static Adapter readAdapter(Path dir) {
    Path file = dir.resolve(ADAPTER_CONFIG);
    JsonNode c;
    try {
      c = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new WhetException(file + ": not valid JSON (" + e.getMessage() + ")", e);
    }
    Path base = Path.of(c.path("base_model_name_or_path").asText(""));
    if (!Files.isRegularFile(base.resolve("config.json"))) {
      throw new WhetException(
          file
              + ": the base model '"
              + base
              + "' is not there any more; restore it or export the merged model where it is");
    }
    List<String> targets = new ArrayList<>();
    for (JsonNode t : c.path("target_modules")) {
      targets.add(t.asText().replace("_proj", ""));
    }
    Lora lora =
        new Lora(
            c.path("r").asInt(),
            c.path("lora_alpha").asDouble(),
            c.path("lora_dropout").asDouble(),
            targets);
    return new Adapter(base, lora);
  }

  /** Copies an adapter file's tensors into the model's adapters (built with the same Lora). */
  public static void loadAdapterWeights(LlamaModel model, Path dir) {
    Map<String, Tensor> params = Weights.parameters(model);
    Path file = dir.resolve(ADAPTER_WEIGHTS);
    int loaded = 0;
    try (NoGradGuard g = new NoGradGuard()) {
      for (TensorData d : Safetensors.read(file).values()) {
        String name = Weights.stripPrefix(d.name(), List.of(PEFT_PREFIX));
        Tensor p = params.get(name);
        if (p == null) {
          throw new WhetException(file + ": tensor '" + d.name() + "' matches no adapter");
        }
        p.copy_(Weights.toTensor(d));
        loaded++;
      }
    }
    long expected = params.keySet().stream().filter(k -> k.contains(".lora_")).count();
    if (loaded != expected) {
      throw new WhetException(
          file + ": holds " + loaded + " adapter tensors, the model has " + expected);
    }
  }

  private static void copyTokenizer(Path from, Path to) throws IOException {
    for (String f : TOKENIZER_FILES) {
      if (Files.isRegularFile(from.resolve(f))) {
        Files.copy(from.resolve(f), to.resolve(f), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  private static void writeInfo(Path dir, Map<String, Object> info) throws IOException {
    Files.writeString(
        dir.resolve("whet.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(info));
  }

  private interface Writer {
    void write(Path tmp) throws IOException;
  }

  /** Writes into a temp directory beside {@code out}, then renames: never a half-written model. */
  private static void writeDir(Path out, Writer w) {
    Path tmp = out.toAbsolutePath().resolveSibling("." + out.getFileName() + ".tmp");
    try {
      DiskFiles.delete(tmp);
      Files.createDirectories(tmp);
      w.write(tmp);
      DiskFiles.delete(out);
      Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new WhetException(out + ": cannot write the model (" + e.getMessage() + ")", e);
    }
  }
}
