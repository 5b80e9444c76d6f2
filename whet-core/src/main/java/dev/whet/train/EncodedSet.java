package dev.whet.train;

import dev.whet.engine.Tensors;
import dev.whet.io.Tokenizer;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Examples tokenized once before training, so the loop never tokenizes inside a step.
 *
 * @param labels per example, the indices of its labels (one for single-label tasks)
 */
public record EncodedSet(long[][] ids, long[][] typeIds, int[][] labels, int numLabels) {

  /** Tokenizes texts (and optional second texts for pair tasks). */
  public static EncodedSet of(
      Tokenizer tok, List<String> texts, List<String> pairs, int[][] labels, int numLabels) {
    long[][] ids = new long[texts.size()][];
    long[][] types = new long[texts.size()][];
    for (int i = 0; i < ids.length; i++) {
      if (pairs != null) {
        Tokenizer.Encoded e = tok.encodePair(texts.get(i), pairs.get(i));
        ids[i] = e.ids();
        types[i] = e.typeIds();
      } else {
        ids[i] = tok.encode(texts.get(i));
        types[i] = new long[ids[i].length];
      }
    }
    return new EncodedSet(ids, types, labels, numLabels);
  }

  public int size() {
    return ids.length;
  }

  public int[] lengths() {
    int[] l = new int[ids.length];
    for (int i = 0; i < l.length; i++) {
      l[i] = ids[i].length;
    }
    return l;
  }

  /** The rows {@code index} padded to their longest. */
  public Tokenizer.Batch batch(int[] index, long padId) {
    long[][] rows = new long[index.length][];
    long[][] types = new long[index.length][];
    for (int i = 0; i < index.length; i++) {
      rows[i] = ids[index[i]];
      types[i] = typeIds[index[i]];
    }
    return Tokenizer.Batch.pad(rows, types, padId);
  }

  /**
   * Targets for the rows: class indices (B) for single-label, multi-hot floats (B, C) otherwise.
   */
  public Tensor targets(int[] index, boolean multiLabel) {
    if (multiLabel) {
      float[] hot = new float[index.length * numLabels];
      for (int i = 0; i < index.length; i++) {
        for (int l : labels[index[i]]) {
          hot[i * numLabels + l] = 1f;
        }
      }
      return Tensors.fromFloats(hot, index.length, numLabels);
    }
    long[] y = new long[index.length];
    for (int i = 0; i < index.length; i++) {
      y[i] = labels[index[i]][0];
    }
    return Tensors.fromLongs(y, index.length);
  }
}
