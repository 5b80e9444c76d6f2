package dev.whet.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The files that make a Hugging Face encoder directory a sentence-transformers model: {@code
 * modules.json} (Transformer → Pooling → optional Normalize), {@code 1_Pooling/config.json}, {@code
 * 2_Normalize/}, {@code sentence_bert_config.json} and {@code config_sentence_transformers.json}.
 * sentence-transformers loads such a directory as encoder + pooling + normalisation and gives the
 * vectors Whet's {@code Encoder} computes from the same files.
 */
public final class SentenceTransformersFiles {
  private static final ObjectMapper JSON = Json.MAPPER;

  private SentenceTransformersFiles() {}

  /**
   * @param cls pool the first token; else the mean of real tokens
   * @param normalize L2-normalise the pooled vector
   */
  public static void write(Path dir, int hidden, boolean cls, boolean normalize, int maxSeqLength)
      throws IOException {
    ArrayNode modules = JSON.createArrayNode();
    modules
        .addObject()
        .put("idx", 0)
        .put("name", "0")
        .put("path", "")
        .put("type", type("Transformer"));
    modules
        .addObject()
        .put("idx", 1)
        .put("name", "1")
        .put("path", "1_Pooling")
        .put("type", type("Pooling"));
    Files.createDirectories(dir.resolve("1_Pooling"));
    if (normalize) {
      modules
          .addObject()
          .put("idx", 2)
          .put("name", "2")
          .put("path", "2_Normalize")
          .put("type", type("Normalize"));
      Files.createDirectories(dir.resolve("2_Normalize"));
    }
    ObjectNode p = JSON.createObjectNode();
    p.put("word_embedding_dimension", hidden);
    p.put("pooling_mode_cls_token", cls);
    p.put("pooling_mode_mean_tokens", !cls);
    p.put("pooling_mode_max_tokens", false);
    p.put("pooling_mode_mean_sqrt_len_tokens", false);
    p.put("pooling_mode_weightedmean_tokens", false);
    p.put("pooling_mode_lasttoken", false);
    p.put("include_prompt", true);
    ObjectNode st = JSON.createObjectNode();
    st.put("max_seq_length", maxSeqLength).put("do_lower_case", false);
    ObjectNode version = JSON.createObjectNode();
    version.putObject("__version__").put("sentence_transformers", "3.0.0");
    version.putObject("prompts");
    version.putNull("default_prompt_name");
    version.put("similarity_fn_name", "cosine");
    write(dir.resolve("modules.json"), modules.toPrettyString());
    write(dir.resolve("1_Pooling/config.json"), p.toPrettyString());
    write(dir.resolve("sentence_bert_config.json"), st.toPrettyString());
    write(dir.resolve("config_sentence_transformers.json"), version.toPrettyString());
  }

  private static String type(String module) {
    return "sentence_transformers.models." + module;
  }

  private static void write(Path file, String text) throws IOException {
    OnnxBertImporter.writeSynced(file, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }
}
