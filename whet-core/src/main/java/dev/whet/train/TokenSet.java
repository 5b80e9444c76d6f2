package dev.whet.train;

import dev.whet.data.TokenExample;
import dev.whet.engine.Tensors;
import dev.whet.io.Tokenizer;
import dev.whet.model.ClassifierModel;
import dev.whet.model.TokenWindows;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Tagged sentences tokenized once before training: the windows the model reads, each position's
 * target (its word's tag on the word's first sub-token, {@link #IGNORED} elsewhere), and the
 * sentences themselves for entity-level scores.
 *
 * @param ids per window, token ids with the special tokens
 * @param targets per window, per position, a tag index or {@link #IGNORED}
 * @param sentences per sentence, its sub-tokens and where each word starts
 * @param gold per sentence, its tags
 */
public record TokenSet(
    long[][] ids, long[][] targets, List<Tokenizer.WordTokens> sentences, List<List<String>> gold) {

  /** The target cross-entropy skips: libtorch's default {@code ignore_index}. */
  public static final long IGNORED = -100;

  /**
   * @param tags the model's tags, by index
   * @param labelAllSubtokens also train a word's later sub-tokens (on the word's tag, {@code B-}
   *     turned to {@code I-}), as Transformers' token-classification example can
   */
  public static TokenSet of(
      Tokenizer tok, List<TokenExample> examples, List<String> tags, boolean labelAllSubtokens) {
    long[][] specials = tok.specialTokens();
    List<long[]> ids = new ArrayList<>();
    List<long[]> targets = new ArrayList<>();
    List<Tokenizer.WordTokens> sentences = new ArrayList<>();
    List<List<String>> gold = new ArrayList<>();
    for (TokenExample e : examples) {
      Tokenizer.WordTokens wt = ClassifierModel.encodeWords(tok, List.of(e.tokens())).get(0);
      sentences.add(wt);
      gold.add(e.tags());
      for (TokenWindows.Window w : TokenWindows.of(wt, specials, tok.maxLength())) {
        long[] y = new long[w.ids().length];
        boolean any = false;
        for (int p = 0; p < y.length; p++) {
          y[p] = IGNORED;
          if (w.word()[p] >= 0) {
            y[p] = tags.indexOf(e.tags().get(w.word()[p]));
          } else if (labelAllSubtokens && w.within()[p] >= 0) {
            String tag = e.tags().get(w.within()[p]);
            y[p] = tags.indexOf(tag.startsWith("B-") ? "I-" + tag.substring(2) : tag);
          }
          any |= y[p] != IGNORED;
        }
        if (any) { // a window with nothing to learn would make the loss 0/0
          ids.add(w.ids());
          targets.add(y);
        }
      }
    }
    return new TokenSet(
        ids.toArray(long[][]::new), targets.toArray(long[][]::new), sentences, gold);
  }

  public int size() {
    return ids.length;
  }

  public int[] lengths() {
    return Arrays.stream(ids).mapToInt(r -> r.length).toArray();
  }

  /** The windows {@code rows} padded to their longest. */
  public Tokenizer.Batch batch(int[] rows, long padId) {
    long[][] r = new long[rows.length][];
    for (int i = 0; i < rows.length; i++) {
      r[i] = ids[rows[i]];
    }
    return Tokenizer.Batch.pad(r, null, padId);
  }

  /** Targets (B·T) of the windows {@code rows}, padding ignored, flattened as the logits are. */
  public Tensor targets(int[] rows, int width) {
    long[] y = new long[rows.length * width];
    Arrays.fill(y, IGNORED);
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(targets[rows[i]], 0, y, i * width, targets[rows[i]].length);
    }
    return Tensors.fromLongs(y, y.length);
  }

  /** Positions that carry a target in windows {@code rows}. */
  public long labelled(int[] rows) {
    long n = 0;
    for (int r : rows) {
      for (long t : targets[r]) {
        n += t != IGNORED ? 1 : 0;
      }
    }
    return n;
  }
}
