package dev.whet.model;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * Sequence classification: encoder → pooled output (CLS or mean) → dropout → linear. Parameter
 * names follow Transformers' {@code BertForSequenceClassification} ({@code bert.*}, {@code
 * classifier.*}). Returns logits; the loss lives in the training step.
 */
public final class SequenceClassifier extends Block {
  private final BertModel bert;
  private final Linear classifier;
  private final Pooling pooling;
  private final double dropout;

  public SequenceClassifier(
      BertModel bert, int hidden, int numLabels, Pooling pooling, double dropout) {
    this.bert = child(this, "bert", bert);
    this.classifier = child(this, "classifier", new Linear(hidden, numLabels, true));
    this.pooling = pooling;
    this.dropout = dropout;
    try (NoGradGuard g = new NoGradGuard()) {
      // Transformers' initialisation for new heads: N(0, 0.02), zero bias.
      // (randn * 0.02 rather than normal_: the binding's empty GeneratorOptional crashes normal_.)
      Tensor w = classifier.weight();
      w.copy_(
          org.bytedeco
              .pytorch
              .global
              .torch
              .randn(w.sizes().vec().get())
              .mul(new org.bytedeco.pytorch.Scalar(0.02)));
      classifier.bias().zero_();
    }
  }

  public BertModel bert() {
    return bert;
  }

  public Linear classifier() {
    return classifier;
  }

  public Pooling pooling() {
    return pooling;
  }

  /**
   * @param ids (B, T)
   * @param mask (B, T)
   * @param typeIds (B, T) or null
   * @return (B, numLabels) logits
   */
  public Tensor forward(Tensor ids, Tensor mask, Tensor typeIds) {
    Tensor pooled = pooling.apply(bert.forward(ids, mask, typeIds), mask); // (B, H)
    return classifier.forward(Dropout.apply(pooled, dropout, is_training()));
  }
}
