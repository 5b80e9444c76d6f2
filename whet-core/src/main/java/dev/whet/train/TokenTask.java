package dev.whet.train;

import dev.whet.eval.EntityMetrics;
import dev.whet.io.Tokenizer;
import dev.whet.model.ClassifierModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Token classification (entity extraction): an encoder with a per-token head, trained with
 * cross-entropy on each word's first sub-token and judged by strict entity-level F1.
 */
public final class TokenTask extends EncoderTask {
  private final ClassifierModel model;
  private final TokenSet train;
  private final TokenSet val;
  private final long padId;

  /**
   * @param val validation sentences, or null
   */
  public TokenTask(ClassifierModel model, TokenSet train, TokenSet val) {
    super(model.module(), model.module().bert(), "bert.", model::mergeLora, model::save);
    this.model = model;
    this.train = train;
    this.val = val;
    this.padId = model.tokenizer().padId();
  }

  @Override
  public int[] lengths() {
    return train.lengths();
  }

  @Override
  public Tensor loss(int[] rows) {
    return loss(train, rows);
  }

  private Tensor loss(TokenSet set, int[] rows) {
    Tokenizer.Batch batch = set.batch(rows, padId);
    Tensor logits = model.logits(batch).to(torch.ScalarType.Float); // (B, T, C)
    return torch.cross_entropy(
        logits.reshape(-1, logits.size(2)), set.targets(rows, batch.width()));
  }

  /** Trained positions, so that accumulated micro-batches weigh every tagged word alike. */
  @Override
  public double weight(int[] rows) {
    return train.labelled(rows);
  }

  @Override
  public long tokens(int[] rows) {
    long n = 0;
    for (int r : rows) {
      n += train.ids()[r].length;
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

  @Override
  public Map<String, Double> validate(boolean bf16, Shard shard) {
    return evaluate(val, bf16, shard);
  }

  /**
   * Loss per tagged word, strict entity precision, recall and F1 (micro) and token accuracy on a
   * set, in eval mode without autograd.
   */
  public Map<String, Double> evaluate(TokenSet set, boolean bf16) {
    return evaluate(set, bf16, Shard.ALL);
  }

  /**
   * {@link #evaluate(TokenSet, boolean)} with this rank scoring its shard of the windows (the loss)
   * and of the sentences (the tags); the sums and the tags (as each word's tag index + 1, zero
   * where another rank tagged) are summed over the ranks, so the metrics are the whole set's.
   */
  private Map<String, Double> evaluate(TokenSet set, boolean bf16, Shard shard) {
    model.module().eval();
    double lossSum = 0;
    long labelled = 0;
    try (InferenceMode guard = new InferenceMode()) {
      for (int[] b : shard.batches(set.size(), 32)) {
        try (PointerScope scope = new PointerScope()) {
          long n = set.labelled(b);
          lossSum += Trainer.autocast(bf16, () -> loss(set, b)).item_double() * n;
          labelled += n;
        }
      }
    }
    int[] sentences = shard.rows(set.sentences().size());
    List<Tokenizer.WordTokens> mine =
        java.util.Arrays.stream(sentences).mapToObj(set.sentences()::get).toList();
    List<List<String>> tagged =
        model.bestTags(Trainer.underAutocast(bf16, () -> model.tagWords(mine)));
    model.module().train(true);
    int[] firstWord = new int[set.gold().size() + 1];
    for (int i = 0; i < set.gold().size(); i++) {
      firstWord[i + 1] = firstWord[i] + set.gold().get(i).size();
    }
    double[] part = new double[2 + firstWord[set.gold().size()]];
    part[0] = lossSum;
    part[1] = labelled;
    for (int k = 0; k < sentences.length; k++) {
      List<String> tags = tagged.get(k);
      for (int w = 0; w < tags.size(); w++) {
        part[2 + firstWord[sentences[k]] + w] = model.labels().indexOf(tags.get(w)) + 1;
      }
    }
    double[] all = shard.sum().apply(part);
    List<List<String>> predicted = new ArrayList<>();
    for (int i = 0; i < set.gold().size(); i++) {
      List<String> tags = new ArrayList<>();
      for (int w = firstWord[i]; w < firstWord[i + 1]; w++) {
        tags.add(model.labels().get((int) Math.round(all[2 + w]) - 1));
      }
      predicted.add(tags);
    }
    lossSum = all[0];
    labelled = (long) all[1];
    EntityMetrics.Scores s = EntityMetrics.score(set.gold(), predicted);
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("loss", labelled == 0 ? 0 : lossSum / labelled);
    m.put("entity_f1", s.f1());
    m.put("entity_precision", s.precision());
    m.put("entity_recall", s.recall());
    m.put("token_accuracy", s.tokenAccuracy());
    return m;
  }
}
