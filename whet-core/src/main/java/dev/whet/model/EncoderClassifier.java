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
    // A per-token head keeps Linear's initialisation, PyTorch's default (uniform in ±1/√hidden for
    // weight and bias): with Transformers' N(0, 0.02) the WNUT-17 recipe on MiniLM still tagged
    // everything O after its first epoch (dev entity F1 0.002 at step 107, against 0.397 with
    // this; docs/benchmarks.md): the tiny weights starve the encoder's gradient while O dominates
    // the loss. A per-text head keeps Transformers' initialisation, which its recipes were
    // measured with.
    if (pooling != null) {
      try (NoGradGuard g = new NoGradGuard()) {
        // N(0, 0.02), zero bias. (randn * 0.02 rather than normal_: the binding's empty
        // GeneratorOptional crashes normal_.)
        Tensor w = classifier.weight();
        w.copy_(torch.randn(w.sizes().vec().get()).mul(new Scalar(0.02)));
        classifier.bias().zero_();
      }
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
