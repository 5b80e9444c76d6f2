package dev.whet.train;

import dev.whet.WhetException;
import dev.whet.io.ChatTemplate;
import dev.whet.io.ChatTemplate.Message;
import dev.whet.io.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns supervised fine-tuning records (prompt/completion, or a chat) into token ids and labels for
 * a causal language model.
 *
 * <p>Two choices make fine-tuned models stop, a failure other tools are known for: the end of each
 * completion (EOS, or the chat template's end-of-turn token) is appended and <em>trained</em>, and
 * padding is never identified by id: labels say what is trained ({@link #IGNORE} elsewhere), so a
 * pad token equal to EOS cannot mask EOS away; {@link #padId} still picks a pad id different from
 * EOS.
 */
public final class SftEncoding {
  /** The label of tokens that are not trained (PyTorch's cross-entropy ignore index). */
  public static final long IGNORE = -100;

  private final Tokenizer tokenizer;
  private final ChatTemplate template;
  private final long eosId;
  private final boolean trainOnPrompt;
  private final int maxLength;

  /**
   * One encoded example: {@code labels[i]} is the target of position i's prediction before the
   * usual shift (labels equal input ids where trained), {@link #IGNORE} elsewhere.
   */
  public record Example(long[] inputIds, long[] labels) {
    public int length() {
      return inputIds.length;
    }

    /** Number of trained tokens. */
    public int trainedTokens() {
      return (int) Arrays.stream(labels).filter(l -> l != IGNORE).count();
    }
  }

  /**
   * @param template the chat template, or null when only prompt/completion records are encoded
   * @param eosId the id that ends a completion (config.json's {@code eos_token_id})
   * @param trainOnPrompt train on prompt (and user/system) tokens too, not only on completions
   * @param maxLength longer examples are cut at this many tokens (their end is then not trained to
   *     stop)
   */
  public SftEncoding(
      Tokenizer tokenizer,
      ChatTemplate template,
      long eosId,
      boolean trainOnPrompt,
      int maxLength) {
    this.tokenizer = tokenizer;
    this.template = template;
    this.eosId = eosId;
    this.trainOnPrompt = trainOnPrompt;
    this.maxLength = maxLength;
  }

  /**
   * {@code prompt} as the tokenizer encodes text (BOS included where the model adds one), then
   * {@code completion} and EOS. Only completion and EOS are trained unless {@code trainOnPrompt}.
   */
  public Example promptCompletion(String prompt, String completion) {
    Builder b = new Builder();
    b.add(tokenizer.encode(prompt), trainOnPrompt);
    b.add(tokenizer.encodeRaw(completion), true);
    b.add(new long[] {eosId}, true);
    return b.build();
  }

  /**
   * A conversation in which every assistant turn is trained (see {@link #chat(List, boolean[])}).
   */
  public Example chat(List<Message> messages) {
    boolean[] learn = new boolean[messages.size()];
    Arrays.fill(learn, true);
    return chat(messages, learn);
  }

  /**
   * A conversation rendered with the chat template; the assistant turns with {@code learn[i]}
   * (their text and the template's end-of-turn marker) are trained, the other assistant turns never
   * (OpenAI's {@code weight: 0}), the rest only when {@code trainOnPrompt}. Each turn is the
   * difference between renderings of successive prefixes of the conversation, so the tokens are
   * exactly the template's text.
   */
  public Example chat(List<Message> messages, boolean[] learn) {
    if (template == null) {
      throw new WhetException(
          "this model has no chat template (tokenizer_config.json's chat_template); use"
              + " prompt/completion records or a model with a template");
    }
    Builder b = new Builder();
    String done = "";
    for (int i = 0; i < messages.size(); i++) {
      List<Message> upTo = messages.subList(0, i + 1);
      if (messages.get(i).role().equals("assistant")) {
        String header = template.render(messages.subList(0, i), true);
        String full = template.render(upTo, false);
        b.add(tokenizer.encodeRaw(suffix(done, header)), trainOnPrompt);
        long[] reply = tokenizer.encodeRaw(suffix(header, full));
        b.add(reply, learn[i]);
        if (Arrays.stream(reply).noneMatch(id -> id == eosId)) {
          b.add(new long[] {eosId}, learn[i]); // the template ends turns without EOS: add it
        }
        done = full;
      } else {
        String full = template.render(upTo, false);
        b.add(tokenizer.encodeRaw(suffix(done, full)), trainOnPrompt);
        done = full;
      }
    }
    return b.build();
  }

  private String suffix(String prefix, String full) {
    if (!full.startsWith(prefix)) {
      throw new WhetException(
          "the chat template renders a conversation differently from its beginning, so turns"
              + " cannot be separated for training");
    }
    return full.substring(prefix.length());
  }

  /** A pad id that is not EOS (the tokenizer's own when it differs; padding is masked anyway). */
  public static long padId(Tokenizer tokenizer, long eosId) {
    long pad = tokenizer.padId();
    if (pad != eosId) {
      return pad;
    }
    return eosId == 0 ? 1 : 0;
  }

  /**
   * Rows padded to the longest: {@code inputIds}, {@code labels} ({@link #IGNORE} on padding) and
   * {@code attentionMask} (1 real, 0 padding), each (rows × width) row-major.
   */
  public record Batch(long[] inputIds, long[] labels, long[] attentionMask, int rows, int width) {}

  /** Pads examples on the right to the longest one. */
  public static Batch pad(List<Example> examples, long padId) {
    int width = examples.stream().mapToInt(Example::length).max().orElse(0);
    int rows = examples.size();
    long[] ids = new long[rows * width];
    long[] labels = new long[rows * width];
    long[] mask = new long[rows * width];
    Arrays.fill(ids, padId);
    Arrays.fill(labels, IGNORE);
    for (int r = 0; r < rows; r++) {
      Example e = examples.get(r);
      System.arraycopy(e.inputIds(), 0, ids, r * width, e.length());
      System.arraycopy(e.labels(), 0, labels, r * width, e.length());
      Arrays.fill(mask, r * width, r * width + e.length(), 1L);
    }
    return new Batch(ids, labels, mask, rows, width);
  }

  /**
   * Several examples per row, for {@code LlamaModel.packedMask} / {@code packedPositions}: {@code
   * sequenceIds} numbers the examples of each row from 0; padding gets -1 (it attends only to
   * padding and is never trained).
   */
  public record Packed(long[] inputIds, long[] labels, long[] sequenceIds, int rows, int width) {}

  /** Packs examples in order, first fit into rows of {@code width} tokens. */
  public static Packed pack(List<Example> examples, int width, long padId) {
    List<List<Example>> rows = new ArrayList<>();
    List<Integer> used = new ArrayList<>();
    for (Example e : examples) {
      if (e.length() > width) {
        throw new WhetException(
            "an example of " + e.length() + " tokens does not fit a packed row of " + width);
      }
      int r = 0;
      while (r < rows.size() && used.get(r) + e.length() > width) {
        r++;
      }
      if (r == rows.size()) {
        rows.add(new ArrayList<>());
        used.add(0);
      }
      rows.get(r).add(e);
      used.set(r, used.get(r) + e.length());
    }
    long[] ids = new long[rows.size() * width];
    long[] labels = new long[ids.length];
    long[] seq = new long[ids.length];
    Arrays.fill(ids, padId);
    Arrays.fill(labels, IGNORE);
    Arrays.fill(seq, -1);
    for (int r = 0; r < rows.size(); r++) {
      int at = r * width;
      for (int k = 0; k < rows.get(r).size(); k++) {
        Example e = rows.get(r).get(k);
        System.arraycopy(e.inputIds(), 0, ids, at, e.length());
        System.arraycopy(e.labels(), 0, labels, at, e.length());
        Arrays.fill(seq, at, at + e.length(), k);
        at += e.length();
      }
    }
    return new Packed(ids, labels, seq, rows.size(), width);
  }

  private final class Builder {
    private final List<Long> ids = new ArrayList<>();
    private final List<Long> labels = new ArrayList<>();

    void add(long[] tokens, boolean trained) {
      for (long t : tokens) {
        ids.add(t);
        labels.add(trained ? t : IGNORE);
      }
    }

    Example build() {
      int n = Math.min(ids.size(), maxLength);
      long[] i = new long[n];
      long[] l = new long[n];
      for (int k = 0; k < n; k++) {
        i[k] = ids.get(k);
        l[k] = labels.get(k);
      }
      return new Example(i, l);
    }
  }
}
