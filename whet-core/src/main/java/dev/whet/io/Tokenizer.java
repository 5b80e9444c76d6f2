package dev.whet.io;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.whet.WhetException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} run by the Rust tokenizers library (through DJL's binding,
 * offline). Encodes without padding; {@link Batch} pads to the longest text of a batch, never to a
 * global maximum.
 */
public final class Tokenizer implements AutoCloseable {
  static {
    // The binding may otherwise try to download its native library or tokenizer files.
    System.setProperty("ai.djl.offline", "true");
  }

  private final HuggingFaceTokenizer tokenizer;
  // Same tokenizer without truncation, to count how long texts really are.
  private final HuggingFaceTokenizer untruncated;
  private final int maxLength;
  private final long padId;

  private Tokenizer(
      HuggingFaceTokenizer tokenizer, HuggingFaceTokenizer untruncated, int maxLength, long padId) {
    this.tokenizer = tokenizer;
    this.untruncated = untruncated;
    this.maxLength = maxLength;
    this.padId = padId;
  }

  /**
   * Loads {@code tokenizer.json}; texts longer than {@code maxLength} tokens (special tokens
   * included) are truncated.
   */
  public static Tokenizer load(Path tokenizerJson, int maxLength) {
    if (!Files.isRegularFile(tokenizerJson)) {
      throw new WhetException(tokenizerJson + ": tokenizer file not found");
    }
    try {
      HuggingFaceTokenizer tok =
          HuggingFaceTokenizer.newInstance(
              tokenizerJson,
              Map.of(
                  "maxLength", Integer.toString(maxLength),
                  // DJL caps maxLength at the model's length from tokenizer_config.json, 512
                  // when that file does not say: a 2,048-token decoder's prompts were cut at 512.
                  "modelMaxLength", Integer.toString(maxLength),
                  "truncation", "true",
                  "padding", "false",
                  "addSpecialTokens", "true"));
      HuggingFaceTokenizer full =
          HuggingFaceTokenizer.newInstance(
              tokenizerJson,
              Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "true"));
      return new Tokenizer(tok, full, maxLength, padIdOf(tok));
    } catch (IOException | RuntimeException e) {
      throw new WhetException(
          tokenizerJson + ": not a valid Hugging Face tokenizer.json (" + e.getMessage() + ")", e);
    }
  }

  /**
   * The {@code truncation.max_length} a tokenizer JSON declares (the length its model was meant to
   * be used with), or 0 when it declares none or cannot be read.
   */
  public static int declaredMaxLength(Path tokenizerJson) {
    try (var parser =
        new com.fasterxml.jackson.core.JsonFactory().createParser(tokenizerJson.toFile())) {
      // Stream to the top-level "truncation" field: the vocabulary can be megabytes.
      if (parser.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
        return 0;
      }
      while (parser.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        parser.nextToken();
        if (field.equals("truncation")) {
          com.fasterxml.jackson.databind.JsonNode t =
              new com.fasterxml.jackson.databind.ObjectMapper().readTree(parser);
          return t == null ? 0 : t.path("max_length").asInt(0);
        }
        parser.skipChildren();
      }
    } catch (IOException e) {
      return 0;
    }
    return 0;
  }

  private static long padIdOf(HuggingFaceTokenizer tok) {
    for (String candidate : List.of("[PAD]", "<pad>", "<|padding|>")) {
      long[] ids = tok.encode(candidate, false, false).getIds();
      if (ids.length == 1) {
        return ids[0];
      }
    }
    return 0;
  }

  public int maxLength() {
    return maxLength;
  }

  public long padId() {
    return padId;
  }

  /** Token ids of one text, special tokens included, truncated to {@link #maxLength()}. */
  public long[] encode(String text) {
    return tokenizer.encode(text).getIds();
  }

  /** Token ids of a text pair ({@code [CLS] a [SEP] b [SEP]} for BERT), with token type ids. */
  public Encoded encodePair(String text, String pair) {
    Encoding e = tokenizer.encode(text, pair);
    return new Encoded(e.getIds(), e.getTypeIds());
  }

  /**
   * Number of tokens before truncation, special tokens included: to refuse an input that would be
   * cut, where cutting it silently would change its meaning (a generation prompt).
   */
  public int countTokens(String text) {
    return untruncated.encode(text).getIds().length;
  }

  /** Encodes texts and pads them to the longest one. */
  public Batch batch(List<String> texts) {
    long[][] ids = new long[texts.size()][];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = encode(texts.get(i));
    }
    return Batch.pad(ids, null, padId);
  }

  /**
   * A text's sub-tokens (no special tokens, no truncation) and, for each word of the text, the
   * index of its first sub-token: how token classification puts a word's tag on one token. A token
   * belongs to the word holding its first character; a word no token starts in (the tokenizer
   * merged it into the previous one, or dropped it) gets -1.
   *
   * @param words the words' character spans in {@code text}, in order, as {@code {start, end}}
   */
  public WordTokens wordTokens(String text, List<int[]> words) {
    Encoding e = untruncated.encode(text, false, false);
    long[] ids = e.getIds();
    var spans = e.getCharTokenSpans();
    int[] wordOfToken = new int[ids.length];
    int[] first = new int[words.size()];
    java.util.Arrays.fill(first, -1);
    int w = 0;
    for (int t = 0; t < ids.length; t++) {
      wordOfToken[t] = -1;
      if (spans[t] == null) {
        continue;
      }
      // The binding reports offsets in code points; Java strings index UTF-16 units.
      int start = text.offsetByCodePoints(0, spans[t].getStart());
      while (w < words.size() && words.get(w)[1] <= start) {
        w++;
      }
      if (w < words.size() && words.get(w)[0] <= start) {
        wordOfToken[t] = w;
        if (first[w] < 0) {
          first[w] = t;
        }
      } else if (w > 0 && t > 0) {
        wordOfToken[t] = wordOfToken[t - 1]; // a token between words continues the one before
      }
    }
    return new WordTokens(ids, wordOfToken, first);
  }

  /**
   * The special tokens this tokenizer puts around one text ({@code [CLS]} … {@code [SEP]}, {@code
   * <s>} … {@code </s>}), split at the first position that follows the text.
   */
  public long[][] specialTokens() {
    long[] around = untruncated.encode("x", true, false).getIds();
    long[] inner = untruncated.encode("x", false, false).getIds();
    int before = 0;
    while (before < around.length && (inner.length == 0 || around[before] != inner[0])) {
      before++;
    }
    int after = Math.max(0, around.length - before - inner.length);
    return new long[][] {
      java.util.Arrays.copyOfRange(around, 0, before),
      java.util.Arrays.copyOfRange(around, around.length - after, around.length)
    };
  }

  /**
   * A text's sub-tokens for token classification.
   *
   * @param ids sub-token ids, no special tokens
   * @param wordOfToken per token, the word it belongs to, or -1
   * @param firstToken per word, its first token, or -1 when it has none
   */
  public record WordTokens(long[] ids, int[] wordOfToken, int[] firstToken) {}

  /** Decodes ids back to text, skipping special tokens. */
  public String decode(long[] ids) {
    return tokenizer.decode(ids, true);
  }

  /** Decodes ids back to text; special tokens kept unless {@code skipSpecial}. */
  public String decode(long[] ids, boolean skipSpecial) {
    return untruncated.decode(ids, skipSpecial);
  }

  /**
   * Token ids of a text as it is, without the special tokens the tokenizer would add (BOS, CLS) and
   * without truncation: for text that already carries them, like a rendered chat template, or for
   * pieces to be concatenated.
   */
  public long[] encodeRaw(String text) {
    return untruncated.encode(text, false, false).getIds();
  }

  /** The id of a token written exactly as in the vocabulary (e.g. {@code <|im_end|>}), or -1. */
  public long tokenId(String token) {
    long[] ids = untruncated.encode(token, false, false).getIds();
    return ids.length == 1 && decode(ids, false).equals(token) ? ids[0] : -1;
  }

  @Override
  public void close() {
    tokenizer.close();
    untruncated.close();
  }

  /** Ids and token types of one encoded text or pair. */
  public record Encoded(long[] ids, long[] typeIds) {}

  /**
   * Row-major padded batch: {@code ids} and {@code mask} are (rows, width), {@code lengths} the
   * real token count of each row.
   */
  public record Batch(long[] ids, long[] typeIds, long[] mask, int[] lengths, int rows, int width) {
    /** Pads rows of ids (and optional type ids) to the longest row. */
    public static Batch pad(long[][] rows, long[][] types, long padId) {
      int width = 0;
      for (long[] r : rows) {
        width = Math.max(width, r.length);
      }
      long[] ids = new long[rows.length * width];
      long[] typeIds = new long[rows.length * width];
      long[] mask = new long[rows.length * width];
      int[] lengths = new int[rows.length];
      java.util.Arrays.fill(ids, padId);
      for (int i = 0; i < rows.length; i++) {
        lengths[i] = rows[i].length;
        System.arraycopy(rows[i], 0, ids, i * width, rows[i].length);
        if (types != null) {
          System.arraycopy(types[i], 0, typeIds, i * width, types[i].length);
        }
        java.util.Arrays.fill(mask, i * width, i * width + rows[i].length, 1L);
      }
      return new Batch(ids, typeIds, mask, lengths, rows.length, width);
    }

    /** Number of real (non-padding) tokens. */
    public long realTokens() {
      long n = 0;
      for (int l : lengths) {
        n += l;
      }
      return n;
    }
  }
}
