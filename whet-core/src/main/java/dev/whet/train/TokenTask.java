package dev.whet.train;

import dev.whet.data.Batching;
import dev.whet.eval.EntityMetrics;
import dev.whet.io.Tokenizer;
import dev.whet.model.ClassifierModel;
import java.util.LinkedHashMap;
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

  /**
   * Loss per tagged word, strict entity precision, recall and F1 (micro) and token accuracy on a
   * set, in eval mode without autograd.
   */
  public Map<String, Double> evaluate(TokenSet set, boolean bf16) {
    model.module().eval();
    double lossSum = 0;
    long labelled = 0;
    try (InferenceMode guard = new InferenceMode()) {
      for (int[] b : Batching.sequential(set.size(), 32)) {
        try (PointerScope scope = new PointerScope()) {
          long n = set.labelled(b);
          lossSum += Trainer.autocast(bf16, () -> loss(set, b)).item_double() * n;
          labelled += n;
        }
      }
    }
    float[][][] probs = Trainer.underAutocast(bf16, () -> model.tagWords(set.sentences()));
    model.module().train(true);
    EntityMetrics.Scores s = EntityMetrics.score(set.gold(), model.bestTags(probs));
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("loss", labelled == 0 ? 0 : lossSum / labelled);
    m.put("entity_f1", s.f1());
    m.put("entity_precision", s.precision());
    m.put("entity_recall", s.recall());
    m.put("token_accuracy", s.tokenAccuracy());
    return m;
  }
}
