package dev.whet.infer;

import dev.whet.engine.Engine;
import dev.whet.engine.Tensors;
import dev.whet.io.Tokenizer;
import dev.whet.model.LlamaModel;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;

/**
 * Text generation with a decoder: the prompt is run once to fill the KV cache, then each step runs
 * one new token. Stops at an end-of-sequence id, a stop string or the token limit. One row at a
 * time; one generator per thread (inference guards are per thread).
 */
public final class Generator {
  private final LlamaModel model;
  private final Tokenizer tokenizer;
  private final Set<Long> eosIds;
  private final boolean useCache;

  /**
   * @param tokenizer decodes the output; may be null for {@link #generateIds} alone
   * @param eosIds ids that end generation (config.json's {@code eos_token_id}, or the chat
   *     template's end-of-turn token)
   */
  public Generator(LlamaModel model, Tokenizer tokenizer, List<Long> eosIds) {
    this(model, tokenizer, eosIds, true);
  }

  private Generator(LlamaModel model, Tokenizer tokenizer, List<Long> eosIds, boolean useCache) {
    Engine.init();
    this.model = model;
    this.tokenizer = tokenizer;
    this.eosIds = Set.copyOf(eosIds);
    this.useCache = useCache;
  }

  /** The reference path: every step reruns the whole sequence, no cache (for tests). */
  public Generator withoutCache() {
    return new Generator(model, tokenizer, List.copyOf(eosIds), false);
  }

  /**
   * Why generation ended: an end-of-sequence token, a stop string, or the token limit (OpenAI's
   * {@code finish_reason}s: "stop" for the first two, "length").
   */
  public enum Finish {
    EOS,
    STOP_SEQUENCE,
    LENGTH
  }

  /**
   * @param text the generated text, cut before a stop string, without the EOS token
   * @param tokens the generated ids (including a final EOS, if one was produced)
   */
  public record Completion(String text, long[] tokens, int promptTokens, Finish finish) {
    /** OpenAI's {@code finish_reason}. */
    public String finishReason() {
      return finish == Finish.LENGTH ? "length" : "stop";
    }
  }

  /**
   * Generates text after {@code prompt}.
   *
   * @param onText receives the text as it is produced, piece by piece (never text past a stop
   *     string); may be null
   */
  public Completion generate(long[] prompt, GenerationOptions options, Consumer<String> onText) {
    List<Long> out = new ArrayList<>();
    StringBuilder emitted = new StringBuilder();
    Finish[] finish = {Finish.LENGTH};
    long[] eos = {-1};
    String[] finalText = {null};
    run(
        prompt,
        options,
        null,
        id -> {
          if (eosIds.contains(id)) {
            finish[0] = Finish.EOS;
            eos[0] = id;
            return false;
          }
          out.add(id);
          String text = decode(out);
          int cut = firstStop(text, options.stop());
          if (cut >= 0) {
            finalText[0] = text.substring(0, cut);
            finish[0] = Finish.STOP_SEQUENCE;
            emit(finalText[0], emitted, onText);
            return false;
          }
          // Hold back what might still become a stop string or an incomplete UTF-8 sequence.
          int safe = text.length() - heldBack(text, options.stop());
          emit(text.substring(0, safe), emitted, onText);
          return true;
        });
    String text = finalText[0] != null ? finalText[0] : decode(out);
    emit(text, emitted, onText);
    long[] tokens = new long[out.size() + (finish[0] == Finish.EOS ? 1 : 0)];
    for (int i = 0; i < out.size(); i++) {
      tokens[i] = out.get(i);
    }
    if (finish[0] == Finish.EOS) {
      tokens[out.size()] = eos[0];
    }
    return new Completion(text, tokens, prompt.length, finish[0]);
  }

  /**
   * Token ids only: generates until an EOS id (included) or {@code options.maxTokens()}.
   *
   * @param logits when not null, receives each step's next-token logits (vocab floats) before
   *     sampling
   */
  public long[] generateIds(long[] prompt, GenerationOptions options, List<float[]> logits) {
    List<Long> out = new ArrayList<>();
    run(
        prompt,
        options,
        logits,
        id -> {
          out.add(id);
          return !eosIds.contains(id);
        });
    return out.stream().mapToLong(Long::longValue).toArray();
  }

  /** The decoding loop; {@code onToken} returns false to stop. */
  private void run(
      long[] prompt,
      GenerationOptions options,
      List<float[]> logitsOut,
      java.util.function.LongPredicate onToken) {
    if (prompt.length == 0) {
      throw new dev.whet.WhetException("the prompt is empty: give at least one token (e.g. BOS)");
    }
    Sampler sampler = new Sampler(options);
    Set<Long> seen = new LinkedHashSet<>();
    for (long id : prompt) {
      seen.add(id);
    }
    List<Long> sequence = new ArrayList<>();
    for (long id : prompt) {
      sequence.add(id);
    }
    if (prompt.length > model.maxContext()) {
      throw new dev.whet.WhetException(
          "the prompt has "
              + prompt.length
              + " tokens, more than the model's context of "
              + model.maxContext());
    }
    // The cache holds every token fed to the model: the prompt and all but the last output.
    int capacity = Math.min(model.maxContext(), prompt.length + options.maxTokens());
    boolean wasTraining = model.is_training();
    model.eval();
    // The outer scope frees the cache at the end; each step's scope frees that step's temporaries.
    try (PointerScope outer = new PointerScope();
        InferenceMode guard = new InferenceMode()) {
      LlamaModel.KvCache cache = useCache ? model.newCache(1, capacity) : null;
      long[] feed = prompt;
      for (int step = 0; step < options.maxTokens() && sequence.size() <= capacity; step++) {
        float[] logits;
        try (PointerScope stepScope = new PointerScope()) {
          long[] input = useCache ? feed : toArray(sequence);
          Tensor ids = Tensors.fromLongs(input, 1, input.length); // (1, T)
          Tensor h = model.hidden(ids, null, null, cache); // (1, T, H)
          logits = Tensors.toFloats(model.logits(h.select(1, input.length - 1))); // (1, vocab)
        }
        if (logitsOut != null) {
          logitsOut.add(logits.clone());
        }
        long next = sampler.next(logits, seen);
        seen.add(next);
        sequence.add(next);
        if (!onToken.test(next)) {
          break;
        }
        feed = new long[] {next};
      }
    } finally {
      model.train(wasTraining);
    }
  }

  private String decode(List<Long> ids) {
    return tokenizer.decode(ids.stream().mapToLong(Long::longValue).toArray());
  }

  private static long[] toArray(List<Long> ids) {
    return ids.stream().mapToLong(Long::longValue).toArray();
  }

  private static void emit(String text, StringBuilder emitted, Consumer<String> onText) {
    if (onText != null && text.length() > emitted.length() && text.startsWith(emitted.toString())) {
      onText.accept(text.substring(emitted.length()));
      emitted.setLength(0);
      emitted.append(text);
    }
  }

  /** Index of the earliest stop string in {@code text}, or -1. */
  static int firstStop(String text, List<String> stops) {
    int best = -1;
    for (String s : stops) {
      int i = text.indexOf(s);
      if (i >= 0 && (best < 0 || i < best)) {
        best = i;
      }
    }
    return best;
  }

  /**
   * How many trailing characters to hold back: a partial character (U+FFFD while a byte sequence is
   * incomplete) or the longest suffix that starts some stop string.
   */
  static int heldBack(String text, List<String> stops) {
    int hold = 0;
    if (text.endsWith("\uFFFD")) {
      hold = 1;
    }
    for (String s : stops) {
      for (int n = Math.min(s.length() - 1, text.length()); n > hold; n--) {
        if (text.endsWith(s.substring(0, n))) {
          hold = n;
          break;
        }
      }
    }
    return hold;
  }
}
