package dev.whet.model;

import dev.whet.engine.Tensors;
import dev.whet.io.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A text's sub-tokens cut into windows the model takes ({@code max_length}, special tokens
 * included), overlapping by a quarter of a window, so that no word of a long text goes untagged and
 * every word is tagged where it has context on both sides: each word belongs to the one window in
 * which its first sub-token is furthest from an edge.
 */
public final class TokenWindows {
  private TokenWindows() {}

  /**
   * One window as the model reads it.
   *
   * @param ids token ids, special tokens included
   * @param word per position, the word whose tag this position gives (its first sub-token, in the
   *     window the word belongs to), else -1
   * @param within per position, the word a later sub-token continues when that word belongs to this
   *     window (for {@code label_all_subtokens}), else -1
   */
  public record Window(long[] ids, int[] word, int[] within) {}

  /**
   * @param specials the tokenizer's {@link Tokenizer#specialTokens()}
   */
  public static List<Window> of(Tokenizer.WordTokens text, long[][] specials, int maxLength) {
    long[] before = specials[0];
    long[] after = specials[1];
    int room = Math.max(1, maxLength - before.length - after.length);
    int n = text.ids().length;
    List<int[]> ranges = new ArrayList<>();
    int step = Math.max(1, room - room / 4);
    for (int start = 0; ; start += step) {
      int end = Math.min(n, start + room);
      ranges.add(new int[] {start, end});
      if (end >= n) {
        break;
      }
    }
    // Each word's window: where its first token has the most context on its shorter side.
    int[] firstToken = text.firstToken();
    int[] home = new int[firstToken.length];
    for (int w = 0; w < firstToken.length; w++) {
      int t = firstToken[w];
      home[w] = -1;
      int best = -1;
      for (int r = 0; r < ranges.size() && t >= 0; r++) {
        int[] range = ranges.get(r);
        if (t >= range[0] && t < range[1]) {
          int context = Math.min(t - range[0], range[1] - 1 - t);
          if (context > best) {
            best = context;
            home[w] = r;
          }
        }
      }
    }
    List<Window> out = new ArrayList<>(ranges.size());
    for (int r = 0; r < ranges.size(); r++) {
      int start = ranges.get(r)[0];
      int end = ranges.get(r)[1];
      int width = before.length + (end - start) + after.length;
      long[] ids = new long[width];
      int[] word = new int[width];
      int[] within = new int[width];
      Arrays.fill(word, -1);
      Arrays.fill(within, -1);
      System.arraycopy(before, 0, ids, 0, before.length);
      System.arraycopy(text.ids(), start, ids, before.length, end - start);
      System.arraycopy(after, 0, ids, width - after.length, after.length);
      for (int t = start; t < end; t++) {
        int w = text.wordOfToken()[t];
        if (w >= 0 && home[w] == r) {
          if (firstToken[w] == t) {
            word[before.length + t - start] = w;
          } else {
            within[before.length + t - start] = w;
          }
        }
      }
      out.add(new Window(ids, word, within));
    }
    return out;
  }

  /**
   * One vector per word of each text, read at the word's first sub-token in its own window: runs
   * every window through {@code forward} in batches of 32, without autograd.
   *
   * @param forward a padded batch of windows → (B, T, D) per-position vectors
   * @return per text, per word, its D values, or null for a word with no token of its own
   */
  public static float[][][] perWord(
      List<Tokenizer.WordTokens> texts, Tokenizer tok, Function<Tokenizer.Batch, Tensor> forward) {
    long[][] specials = tok.specialTokens();
    record Piece(int text, Window window) {}
    List<Piece> pieces = new ArrayList<>();
    float[][][] out = new float[texts.size()][][];
    for (int i = 0; i < texts.size(); i++) {
      out[i] = new float[texts.get(i).firstToken().length][];
      for (Window w : of(texts.get(i), specials, tok.maxLength())) {
        pieces.add(new Piece(i, w));
      }
    }
    // Batches of windows of similar length: less padding to compute.
    pieces.sort(java.util.Comparator.comparingInt(p -> p.window().ids().length));
    for (int start = 0; start < pieces.size(); start += 32) {
      List<Piece> chunk = pieces.subList(start, Math.min(pieces.size(), start + 32));
      try (PointerScope scope = new PointerScope();
          InferenceMode guard = new InferenceMode()) {
        long[][] rows = chunk.stream().map(p -> p.window().ids()).toArray(long[][]::new);
        Tokenizer.Batch b = Tokenizer.Batch.pad(rows, null, tok.padId());
        Tensor values = forward.apply(b).to(torch.ScalarType.Float).contiguous(); // (B, T, D)
        int d = (int) values.size(2);
        float[] flat = Tensors.toFloats(values);
        for (int r = 0; r < chunk.size(); r++) {
          int[] word = chunk.get(r).window().word();
          for (int p = 0; p < word.length; p++) {
            if (word[p] >= 0) {
              int offset = (r * b.width() + p) * d;
              out[chunk.get(r).text()][word[p]] = Arrays.copyOfRange(flat, offset, offset + d);
            }
          }
        }
      }
    }
    return out;
  }
}
