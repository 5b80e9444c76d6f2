package dev.whet.model;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A classification head on an encoder: per text, encoder → pooled output (CLS or mean) → dropout →
 * linear, as Transformers' {@code BertForSequenceClassification} names it; or per token (no
 * pooling: every hidden state → dropout → linear), as {@code BertForTokenClassification} does.
 * Parameters are {@code bert.*} and {@code classifier.*} in both. Returns logits; the loss lives in
 * the training step.
 */
public final class EncoderClassifier extends Block {
  private final BertModel bert;
  private final Linear classifier;
  private final Pooling pooling;
  private final double dropout;

  /**
   * @param pooling how a text's tokens become one vector, or null to classify every token
   */
  public EncoderClassifier(
      BertModel bert, int hidden, int numLabels, Pooling pooling, double dropout) {
    this.bert = child(this, "bert", bert);
    this.classifier = child(this, "classifier", new Linear(hidden, numLabels, true));
    this.pooling = pooling;
    this.dropout = dropout;
    try (NoGradGuard g = new NoGradGuard()) {
      // Transformers' initialisation for new heads: N(0, 0.02), zero bias.
      // (randn * 0.02 rather than normal_: the binding's empty GeneratorOptional crashes normal_.)
      Tensor w = classifier.weight();
      w.copy_(torch.randn(w.sizes().vec().get()).mul(new Scalar(0.02)));
      classifier.bias().zero_();
    }
  }

  public BertModel bert() {
    return bert;
  }

  public Linear classifier() {
    return classifier;
  }

  /** The pooling of a per-text head; null for a per-token one. */
  public Pooling pooling() {
    return pooling;
  }

  /** Whether this head tags every token rather than the text. */
  public boolean perToken() {
    return pooling == null;
  }

  /**
   * @param ids (B, T)
   * @param mask (B, T)
   * @param typeIds (B, T) or null
   * @return (B, numLabels) logits, or (B, T, numLabels) for a per-token head
   */
  public Tensor forward(Tensor ids, Tensor mask, Tensor typeIds) {
    Tensor hidden = bert.forward(ids, mask, typeIds); // (B, T, H)
    Tensor x = pooling == null ? hidden : pooling.apply(hidden, mask); // (B, T, H) or (B, H)
    return classifier.forward(Dropout.apply(x, dropout, is_training()));
  }
}
