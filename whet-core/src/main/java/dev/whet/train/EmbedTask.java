package dev.whet.train;

import dev.whet.data.Batching;
import dev.whet.eval.Correlation;
import dev.whet.io.Tokenizer;
import dev.whet.model.EmbeddingModel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Sentence-embedding fine-tuning, as sentence-transformers trains it. Graded pairs ({@code
 * similarity}): the cosine of the two embeddings regressed on the score scaled to [0, 1]
 * (CosineSimilarityLoss). Pairs or triplets ({@code embed}): multiple-negatives ranking — each
 * anchor must pick its positive among every positive and hard negative of the batch, by cosine
 * times {@link #SCALE}, under cross-entropy (MultipleNegativesRankingLoss).
 */
public final class EmbedTask extends EncoderTask {
  /** The temperature of the ranking loss: sentence-transformers' default scale. */
  static final double SCALE = 20;

  /**
   * Pairs tokenized once.
   *
   * @param first anchors (embed) or first sentences (similarity)
   * @param second positives, or second sentences
   * @param negatives hard negatives per pair, or null where a pair has none (embed only)
   * @param scores the pairs' scores in [0, 1] (similarity), else null
   * @param groups per pair a class, or null: the ranking loss does not count another pair of the
   *     same class in the batch as a negative (it is not one: SetFit's labelled pairs)
   */
  public record Pairs(
      long[][] first, long[][] second, long[][] negatives, double[] scores, int[] groups) {
    public static Pairs of(
        Tokenizer tok,
        List<String> first,
        List<String> second,
        List<String> negatives,
        double[] scores) {
      long[][] a = new long[first.size()][];
      long[][] b = new long[first.size()][];
      long[][] n = negatives == null ? null : new long[first.size()][];
      for (int i = 0; i < a.length; i++) {
        a[i] = tok.encode(first.get(i));
        b[i] = tok.encode(second.get(i));
        if (n != null && negatives.get(i) != null) {
          n[i] = tok.encode(negatives.get(i));
        }
      }
      return new Pairs(a, b, n, scores, null);
    }

    /** The same pairs, each of a class (see {@code groups}). */
    public Pairs withGroups(int[] groups) {
      return new Pairs(first, second, negatives, scores, groups);
    }

    public int size() {
      return first.length;
    }

    boolean graded() {
      return scores != null;
    }
  }

  private final EmbeddingModel model;
  private final Pairs train;
  private final Pairs val;
  private final long padId;

  public EmbedTask(EmbeddingModel model, Pairs train, Pairs val) {
    super(model.bert(), model.bert(), "", model::mergeLora, model::save);
    this.model = model;
    this.train = train;
    this.val = val;
    this.padId = model.tokenizer().padId();
  }

  @Override
  public int[] lengths() {
    int[] l = new int[train.size()];
    for (int i = 0; i < l.length; i++) {
      l[i] = Math.max(train.first()[i].length, train.second()[i].length);
    }
    return l;
  }

  private Tensor embed(long[][] texts, int[] rows) {
    long[][] r = new long[rows.length][];
    for (int i = 0; i < rows.length; i++) r[i] = texts[rows[i]];
    return model.embed(Tokenizer.Batch.pad(r, null, padId)).to(torch.ScalarType.Float);
  }

  /** Row-wise L2 normalisation, so that a product of embeddings is their cosine. */
  private static Tensor unit(Tensor x) {
    return torch.normalize(x); // p = 2 over dim 1, eps 1e-12
  }

  @Override
  public Tensor loss(int[] rows) {
    return loss(train, rows);
  }

  private Tensor loss(Pairs set, int[] rows) {
    Tensor a = unit(embed(set.first(), rows)); // (B, H)
    Tensor b = unit(embed(set.second(), rows)); // (B, H)
    if (set.graded()) {
      double[] y = new double[rows.length];
      for (int i = 0; i < rows.length; i++) y[i] = set.scores()[rows[i]];
      Tensor cos =
          a.mul(b).sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
      return torch.mse_loss(
          cos, dev.whet.engine.Tensors.fromDoubles(y, y.length).to(torch.ScalarType.Float));
    }
    Tensor candidates = b; // (B or B + N, H): positives, then the batch's hard negatives
    if (set.negatives() != null) {
      int[] withNegative =
          java.util.Arrays.stream(rows).filter(r -> set.negatives()[r] != null).toArray();
      if (withNegative.length > 0) {
        candidates =
            torch.cat(
                new TensorArrayRef(new TensorVector(b, unit(embed(set.negatives(), withNegative)))),
                0);
      }
    }
    Tensor scores = a.matmul(candidates.t()).mul(new Scalar(SCALE)); // (B, candidates)
    if (set.groups() != null) {
      scores =
          scores.masked_fill(
              sameClass(set.groups(), rows, (int) candidates.size(0)),
              new Scalar(Double.NEGATIVE_INFINITY));
    }
    return torch.cross_entropy(scores, torch.arange(new Scalar(rows.length)));
  }

  /**
   * (B, candidates) true where another pair's positive has the anchor's class: not a negative. Hard
   * negatives (the columns after the B positives) stay negatives.
   */
  private static Tensor sameClass(int[] groups, int[] rows, int candidates) {
    long[] mask = new long[rows.length * candidates];
    for (int i = 0; i < rows.length; i++) {
      for (int j = 0; j < rows.length; j++) {
        mask[i * candidates + j] = i != j && groups[rows[i]] == groups[rows[j]] ? 1 : 0;
      }
    }
    return dev.whet.engine.Tensors.fromLongs(mask, rows.length, candidates)
        .to(torch.ScalarType.Bool);
  }

  @Override
  public double weight(int[] rows) {
    return rows.length;
  }

  @Override
  public long tokens(int[] rows) {
    long n = 0;
    for (int r : rows) {
      n += train.first()[r].length + train.second()[r].length;
      if (train.negatives() != null && train.negatives()[r] != null) {
        n += train.negatives()[r].length;
      }
    }
    return n;
  }

  @Override
  public boolean hasValidation() {
    return val != null;
  }

  @Override
  public Map<String, Double> validate(boolean bf16) {
    return evaluate(val, bf16);
  }

  /**
   * Similarity: Spearman of the cosines with the scores, and the loss. Embed: each anchor ranks
   * every positive of the set; recall@1, recall@10, mean reciprocal rank, and the ranking loss over
   * the whole set.
   */
  public Map<String, Double> evaluate(Pairs set, boolean bf16) {
    model.bert().eval();
    float[][] a = vectors(set.first(), bf16);
    float[][] b = vectors(set.second(), bf16);
    model.bert().train(true);
    Map<String, Double> m = new LinkedHashMap<>();
    if (set.graded()) {
      double[] cos = new double[a.length];
      double sse = 0;
      for (int i = 0; i < a.length; i++) {
        cos[i] = dot(a[i], b[i]);
        sse += (cos[i] - set.scores()[i]) * (cos[i] - set.scores()[i]);
      }
      m.put("loss", sse / Math.max(1, a.length));
      m.put("spearman", Correlation.spearman(cos, set.scores()));
      return m;
    }
    Retrieval r = Retrieval.of(a, b);
    m.put("loss", r.loss());
    m.put("recall_at_1", r.recallAt1());
    m.put("recall_at_10", r.recallAt10());
    m.put("mrr", r.mrr());
    return m;
  }

  /** Unit vectors of texts, in batches, without autograd. */
  private float[][] vectors(long[][] texts, boolean bf16) {
    float[][] out = new float[texts.length][];
    try (InferenceMode guard = new InferenceMode()) {
      for (int[] rows : Batching.sequential(texts.length, 64)) {
        try (PointerScope scope = new PointerScope()) {
          float[][] v =
              dev.whet.engine.Tensors.toMatrix(
                  Trainer.autocast(bf16, () -> unit(embed(texts, rows))));
          for (int i = 0; i < rows.length; i++) out[rows[i]] = v[i];
        }
      }
    }
    return out;
  }

  static double dot(float[] x, float[] y) {
    double s = 0;
    for (int i = 0; i < x.length; i++) s += x[i] * y[i];
    return s;
  }

  /**
   * Each anchor against every positive: the rank of its own (1 = first) and the ranking loss.
   *
   * @param ranks per anchor, its positive's rank among all positives
   */
  public record Retrieval(int[] ranks, double loss) {
    /** Ranks from unit vectors: anchors {@code a}, positives {@code b}, pair i matching. */
    public static Retrieval of(float[][] a, float[][] b) {
      int[] ranks = new int[a.length];
      double loss = 0;
      for (int i = 0; i < a.length; i++) {
        double own = dot(a[i], b[i]);
        int above = 0;
        double max = Double.NEGATIVE_INFINITY;
        double[] s = new double[b.length];
        for (int j = 0; j < b.length; j++) {
          s[j] = SCALE * dot(a[i], b[j]);
          max = Math.max(max, s[j]);
          if (j != i && dot(a[i], b[j]) > own) above++;
        }
        double sum = 0;
        for (double x : s) sum += Math.exp(x - max);
        loss += max + Math.log(sum) - s[i];
        ranks[i] = above + 1;
      }
      return new Retrieval(ranks, a.length == 0 ? 0 : loss / a.length);
    }

    public double recallAt1() {
      return recallAt(1);
    }

    public double recallAt10() {
      return recallAt(10);
    }

    public double recallAt(int k) {
      long hits = java.util.Arrays.stream(ranks).filter(r -> r <= k).count();
      return ranks.length == 0 ? 0 : (double) hits / ranks.length;
    }

    public double mrr() {
      double s = 0;
      for (int r : ranks) s += 1.0 / r;
      return ranks.length == 0 ? 0 : s / ranks.length;
    }
  }
}
