package dev.whet.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.WhetException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a Hugging Face {@code tokenizer.json} from a GGUF file's tokenizer metadata, the way
 * transformers' converters do:
 *
 * <ul>
 *   <li>{@code tokenizer.ggml.model = llama}: SentencePiece BPE with scores → a BPE model with byte
 *       fallback, whose merges are every split of a vocabulary piece into two vocabulary pieces,
 *       ranked by the piece's score (transformers' {@code SentencePieceExtractor}); "▁" for spaces
 *       and a prefix space, as Llama's {@code tokenizer.json} does.
 *   <li>{@code gpt2}: byte-level BPE with the stored merges and GPT-2's pre-tokenizer regex (GGUF
 *       files name their model's own regex in {@code tokenizer.ggml.pre}; Llama-3-style regexes
 *       differ in how they split digits and contractions, which this importer does not reproduce).
 * </ul>
 */
final class GgufTokenizer {
  private static final ObjectMapper JSON = Json.MAPPER;
  private static final int NORMAL = 1;
  private static final int UNKNOWN = 2;
  private static final int CONTROL = 3;
  private static final int USER_DEFINED = 4;
  private static final int BYTE = 6;

  private GgufTokenizer() {}

  static ObjectNode tokenizerJson(Gguf g) {
    String model = String.valueOf(g.require("tokenizer.ggml.model"));
    List<?> tokens = (List<?>) g.require("tokenizer.ggml.tokens");
    List<?> types = (List<?>) g.metadata().get("tokenizer.ggml.token_type");
    ObjectNode root = JSON.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (int i = 0; i < tokens.size(); i++) {
      int type = type(types, i);
      if (type == UNKNOWN || type == CONTROL || type == USER_DEFINED) {
        added
            .addObject()
            .put("id", i)
            .put("content", String.valueOf(tokens.get(i)))
            .put("single_word", false)
            .put("lstrip", false)
            .put("rstrip", false)
            .put("normalized", false)
            .put("special", type != USER_DEFINED);
      }
    }
    switch (model) {
      case "llama" -> sentencePiece(g, tokens, types, root);
      case "gpt2" -> byteLevel(g, tokens, root);
      default ->
          throw new WhetException(
              g.file()
                  + ": tokenizer.ggml.model '"
                  + model
                  + "' is not supported; Whet converts 'llama' (SentencePiece BPE) and 'gpt2'"
                  + " (byte-level BPE) tokenizers");
    }
    return root;
  }

  private static void sentencePiece(Gguf g, List<?> tokens, List<?> types, ObjectNode root) {
    List<?> scores = (List<?>) g.require("tokenizer.ggml.scores");
    ArrayNode norms = root.putObject("normalizer").put("type", "Sequence").putArray("normalizers");
    norms.addObject().put("type", "Prepend").put("prepend", "▁");
    ObjectNode replace = norms.addObject().put("type", "Replace");
    replace.putObject("pattern").put("String", " ");
    replace.put("content", "▁");
    root.putNull("pre_tokenizer");
    postProcessor(g, tokens, root, true);
    ArrayNode decoders = root.putObject("decoder").put("type", "Sequence").putArray("decoders");
    ObjectNode space = decoders.addObject().put("type", "Replace");
    space.putObject("pattern").put("String", "▁");
    space.put("content", " ");
    decoders.addObject().put("type", "ByteFallback");
    decoders.addObject().put("type", "Fuse");
    decoders.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);

    Map<String, Integer> vocab = new HashMap<>();
    for (int i = 0; i < tokens.size(); i++) {
      vocab.putIfAbsent(String.valueOf(tokens.get(i)), i);
    }
    // Every way to split a normal piece into two pieces of the vocabulary is a merge; pieces with
    // higher scores merge first (SentencePiece BPE's order).
    record Merge(int left, int right, int piece) {}
    List<Merge> merges = new ArrayList<>();
    for (int id = 0; id < tokens.size(); id++) {
      if (type(types, id) != NORMAL) {
        continue;
      }
      String piece = String.valueOf(tokens.get(id));
      int n = piece.codePointCount(0, piece.length());
      for (int k = 1; k < n; k++) {
        int cut = piece.offsetByCodePoints(0, k);
        Integer l = vocab.get(piece.substring(0, cut));
        Integer r = vocab.get(piece.substring(cut));
        if (l != null && r != null) {
          merges.add(new Merge(l, r, id));
        }
      }
    }
    merges.sort(
        Comparator.comparingDouble((Merge m) -> -((Number) scores.get(m.piece())).doubleValue())
            .thenComparingInt(Merge::piece)
            .thenComparingInt(Merge::left));
    ObjectNode bpe = root.putObject("model");
    bpe.put("type", "BPE");
    bpe.putNull("dropout");
    Object unk = g.metadata().get("tokenizer.ggml.unknown_token_id");
    if (unk instanceof Number u && u.intValue() >= 0 && u.intValue() < tokens.size()) {
      bpe.put("unk_token", String.valueOf(tokens.get(u.intValue())));
    } else {
      bpe.putNull("unk_token");
    }
    bpe.putNull("continuing_subword_prefix");
    bpe.putNull("end_of_word_suffix");
    bpe.put("fuse_unk", true);
    bpe.put("byte_fallback", true);
    bpe.put("ignore_merges", false);
    ObjectNode v = bpe.putObject("vocab");
    for (int i = 0; i < tokens.size(); i++) {
      v.put(String.valueOf(tokens.get(i)), i);
    }
    ArrayNode m = bpe.putArray("merges");
    for (Merge merge : merges) {
      m.addArray()
          .add(String.valueOf(tokens.get(merge.left())))
          .add(String.valueOf(tokens.get(merge.right())));
    }
    if (types != null) {
      for (int i = 0; i < tokens.size(); i++) {
        if (type(types, i) == BYTE && !String.valueOf(tokens.get(i)).matches("<0x[0-9A-F]{2}>")) {
          throw new WhetException(
              g.file() + ": byte token " + i + " is not written <0xNN>: " + tokens.get(i));
        }
      }
    }
  }

  private static void byteLevel(Gguf g, List<?> tokens, ObjectNode root) {
    List<?> merges = (List<?>) g.require("tokenizer.ggml.merges");
    root.putNull("normalizer");
    root.putObject("pre_tokenizer")
        .put("type", "ByteLevel")
        .put("add_prefix_space", false)
        .put("trim_offsets", true)
        .put("use_regex", true);
    postProcessor(g, tokens, root, false);
    root.putObject("decoder")
        .put("type", "ByteLevel")
        .put("add_prefix_space", true)
        .put("trim_offsets", true)
        .put("use_regex", true);
    ObjectNode bpe = root.putObject("model");
    bpe.put("type", "BPE");
    bpe.putNull("dropout");
    bpe.putNull("unk_token");
    bpe.putNull("continuing_subword_prefix");
    bpe.putNull("end_of_word_suffix");
    bpe.put("fuse_unk", false);
    bpe.put("byte_fallback", false);
    bpe.put("ignore_merges", false);
    ObjectNode v = bpe.putObject("vocab");
    for (int i = 0; i < tokens.size(); i++) {
      v.put(String.valueOf(tokens.get(i)), i);
    }
    ArrayNode m = bpe.putArray("merges");
    for (Object merge : merges) {
      String s = String.valueOf(merge);
      int sp = s.indexOf(' ');
      if (sp <= 0) {
        throw new WhetException(
            g.file() + ": tokenizer.ggml.merges entry '" + s + "' has no space");
      }
      m.addArray().add(s.substring(0, sp)).add(s.substring(sp + 1));
    }
  }

  /** BOS (and EOS) around each text as the GGUF's add_bos_token / add_eos_token say. */
  private static void postProcessor(Gguf g, List<?> tokens, ObjectNode root, boolean bosByDefault) {
    boolean addBos = flag(g, "tokenizer.ggml.add_bos_token", bosByDefault);
    boolean addEos = flag(g, "tokenizer.ggml.add_eos_token", false);
    String bos = special(g, tokens, "tokenizer.ggml.bos_token_id");
    String eos = special(g, tokens, "tokenizer.ggml.eos_token_id");
    if ((!addBos || bos == null) && (!addEos || eos == null)) {
      root.putNull("post_processor");
      return;
    }
    ObjectNode p = root.putObject("post_processor").put("type", "TemplateProcessing");
    ObjectNode specials = p.putObject("special_tokens");
    ArrayNode single = p.putArray("single");
    ArrayNode pair = p.putArray("pair");
    // As Llama's tokenizer.json: "<s> A" and "<s> A <s> B" (EOS after each when added).
    for (String seq : List.of("A", "B")) {
      List<ArrayNode> targets = seq.equals("A") ? List.of(single, pair) : List.of(pair);
      for (ArrayNode t : targets) {
        if (addBos && bos != null) {
          t.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
        }
        t.addObject().putObject("Sequence").put("id", seq).put("type_id", 0);
        if (addEos && eos != null) {
          t.addObject().putObject("SpecialToken").put("id", eos).put("type_id", 0);
        }
      }
    }
    for (String key : List.of("tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id")) {
      String tok = special(g, tokens, key);
      if (tok != null) {
        int id = ((Number) g.metadata().get(key)).intValue();
        ObjectNode s = specials.putObject(tok).put("id", tok);
        s.putArray("ids").add(id);
        s.putArray("tokens").add(tok);
      }
    }
  }

  /** tokenizer_config.json: special tokens, BOS/EOS flags and the chat template if stored. */
  static ObjectNode tokenizerConfig(Gguf g) {
    List<?> tokens = (List<?>) g.require("tokenizer.ggml.tokens");
    ObjectNode c = JSON.createObjectNode();
    boolean spm = "llama".equals(g.metadata().get("tokenizer.ggml.model"));
    c.put("add_bos_token", flag(g, "tokenizer.ggml.add_bos_token", spm));
    c.put("add_eos_token", flag(g, "tokenizer.ggml.add_eos_token", false));
    Map<String, String> fields =
        Map.of(
            "bos_token", "tokenizer.ggml.bos_token_id",
            "eos_token", "tokenizer.ggml.eos_token_id",
            "unk_token", "tokenizer.ggml.unknown_token_id",
            "pad_token", "tokenizer.ggml.padding_token_id");
    for (String f : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
      String tok = special(g, tokens, fields.get(f));
      if (tok != null) {
        c.put(f, tok);
      }
    }
    Object template = g.metadata().get("tokenizer.chat_template");
    if (template instanceof String t) {
      c.put("chat_template", t);
    }
    c.put("clean_up_tokenization_spaces", false);
    c.put("tokenizer_class", "PreTrainedTokenizerFast");
    return c;
  }

  private static String special(Gguf g, List<?> tokens, String key) {
    Object v = g.metadata().get(key);
    if (v instanceof Number n && n.longValue() >= 0 && n.longValue() < tokens.size()) {
      return String.valueOf(tokens.get(n.intValue()));
    }
    return null;
  }

  private static boolean flag(Gguf g, String key, boolean dflt) {
    return g.metadata().get(key) instanceof Boolean b ? b : dflt;
  }

  private static int type(List<?> types, int i) {
    return types == null ? NORMAL : ((Number) types.get(i)).intValue();
  }
}
