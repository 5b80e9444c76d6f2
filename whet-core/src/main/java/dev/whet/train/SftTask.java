package dev.whet.train;

import dev.whet.data.Batching;
import dev.whet.data.Task;
import dev.whet.engine.Tensors;
import dev.whet.model.LlamaModel;
import dev.whet.model.Lora;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Supervised fine-tuning of a causal language model: next-token cross-entropy on the trained tokens
 * only (completions and their EOS, by {@link SftEncoding}'s labels), averaged over them. Packed
 * rows hold several examples that never attend to, or predict, one another.
 */
public final class SftTask extends DecoderTask {
  private final List<Row> train;
  private final List<SftEncoding.Example> val;
  private final long padId;

  /**
   * One training item: an example alone, or a packed row of several.
   *
   * @param sequenceIds which example each token belongs to (-1 padding), or null for a lone example
   */
  record Row(long[] ids, long[] labels, long[] sequenceIds) {}

  /**
   * @param lora the adapters {@code model} was built with, or null
   * @param base the base model directory (config and tokenizer files of the saved model)
   * @param packWidth pack training examples into rows of this many tokens; 0 for one per row
   * @param val validation examples, or null
   */
  public SftTask(
      LlamaModel model,
      Lora lora,
      Path base,
      List<SftEncoding.Example> train,
      List<SftEncoding.Example> val,
      long padId,
      int packWidth) {
    super(model, lora, base, Task.SFT);
    this.val = val;
    this.padId = padId;
    this.train = new ArrayList<>();
    if (packWidth > 0) {
      SftEncoding.Packed p = SftEncoding.pack(train, packWidth, padId);
      for (int r = 0; r < p.rows(); r++) {
        int at = r * p.width();
        this.train.add(
            new Row(
                java.util.Arrays.copyOfRange(p.inputIds(), at, at + p.width()),
                java.util.Arrays.copyOfRange(p.labels(), at, at + p.width()),
                java.util.Arrays.copyOfRange(p.sequenceIds(), at, at + p.width())));
      }
    } else {
      train.forEach(e -> this.train.add(new Row(e.inputIds(), e.labels(), null)));
    }
  }

  /** Training items (examples, or packed rows). */
  public int size() {
    return train.size();
  }

  @Override
  public int[] lengths() {
    int[] l = new int[train.size()];
    for (int i = 0; i < l.length; i++) {
      l[i] = train.get(i).ids().length;
    }
    return l;
  }

  @Override
  public Tensor loss(int[] rows) {
    Batch b = batch(rows(rows));
    Tensor sum = lossSum(b);
    return b.trained == 0 ? sum.mul(new Scalar(0.0)) : sum.div(new Scalar((double) b.trained));
  }

  private List<Row> rows(int[] index) {
    List<Row> out = new ArrayList<>(index.length);
    for (int i : index) {
      out.add(train.get(i));
    }
    return out;
  }

  /**
   * Rows padded to the longest, with next-token targets: {@code targets[i] = labels[i + 1]}, or
   * {@link SftEncoding#IGNORE} where position i + 1 is untrained, padding or another packed
   * example.
   */
  private record Batch(
      long[] ids, long[] targets, long[] sequenceIds, int rows, int width, long trained) {}

  private static Batch batch(List<Row> rows) {
    int width = rows.stream().mapToInt(r -> r.ids().length).max().orElse(1);
    boolean packed = rows.get(0).sequenceIds() != null;
    long[] ids = new long[rows.size() * width];
    long[] targets = new long[rows.size() * (width - 1)];
    long[] seq = packed ? new long[ids.length] : null;
    java.util.Arrays.fill(targets, SftEncoding.IGNORE);
    long trained = 0;
    for (int r = 0; r < rows.size(); r++) {
      Row row = rows.get(r);
      int n = row.ids().length;
      System.arraycopy(row.ids(), 0, ids, r * width, n);
      if (packed) {
        System.arraycopy(row.sequenceIds(), 0, seq, r * width, n);
      }
      for (int i = 0; i + 1 < n; i++) {
        boolean sameExample = !packed || row.sequenceIds()[i] == row.sequenceIds()[i + 1];
        long y = row.labels()[i + 1];
        if (sameExample && y != SftEncoding.IGNORE) {
          targets[r * (width - 1) + i] = y;
          trained++;
        }
      }
    }
    return new Batch(ids, targets, seq, rows.size(), width, trained);
  }

  /** Cross-entropy summed over the trained targets. */
  private Tensor lossSum(Batch b) {
    Tensor ids = Tensors.fromLongs(b.ids, b.rows, b.width); // (B, T)
    Tensor positions = null;
    Tensor attend = null;
    if (b.sequenceIds != null) {
      positions =
          Tensors.fromLongs(LlamaModel.packedPositions(b.sequenceIds, b.width), b.rows, b.width);
      attend = LlamaModel.packedMask(Tensors.fromLongs(b.sequenceIds, b.rows, b.width));
    }
    // Right padding needs no mask: real tokens come first and attend only to earlier ones.
    Tensor logits = model.forward(ids, positions, attend, null); // (B, T, V)
    long vocab = logits.size(2);
    Tensor shifted = logits.narrow(1, 0, b.width - 1).reshape(-1, vocab); // (B*(T-1), V)
    Tensor targets = Tensors.fromLongs(b.targets, b.targets.length); // (B*(T-1))
    return torch.cross_entropy_loss(
        shifted.to(torch.ScalarType.Float),
        targets,
        new TensorOptional(),
        2, // reduction: sum
        SftEncoding.IGNORE,
        0.0);
  }

  @Override
  public double weight(int[] rows) {
    return batch(rows(rows)).trained;
  }

  @Override
  public long tokens(int[] rows) {
    long n = 0;
    for (int i : rows) {
      Row r = train.get(i);
      if (r.sequenceIds() == null) {
        n += r.ids().length;
      } else {
        for (long s : r.sequenceIds()) {
          n += s >= 0 ? 1 : 0;
        }
      }
    }
    return n;
  }

  @Override
  public boolean hasValidation() {
    return val != null && !val.isEmpty();
  }

  @Override
  public Map<String, Double> validate(boolean bf16) {
    return validate(bf16, Shard.ALL);
  }

  /** Each rank scores its shard of the examples; loss sums and token counts add up. */
  @Override
  public Map<String, Double> validate(boolean bf16, Shard shard) {
    List<SftEncoding.Example> mine = new ArrayList<>();
    for (int i : shard.rows(val.size())) {
      mine.add(val.get(i));
    }
    double[] part = meanLoss(model, mine, padId, bf16);
    double[] sums = {part[1] == 0 ? 0 : part[0] * part[1], part[1]}; // loss sum, tokens
    double[] all = shard.sum().apply(sums);
    double[] lossAndTokens = {all[1] == 0 ? Double.NaN : all[0] / all[1], all[1]};
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("loss", lossAndTokens[0]);
    m.put("perplexity", Math.exp(lossAndTokens[0]));
    m.put("tokens", lossAndTokens[1]);
    return m;
  }

  /**
   * Mean cross-entropy per trained token of {@code examples}, in eval mode without autograd.
   *
   * @return the mean loss and the number of trained tokens
   */
  public static double[] meanLoss(
      LlamaModel model, List<SftEncoding.Example> examples, long padId, boolean bf16) {
    boolean wasTraining = model.is_training();
    model.eval();
    double sum = 0;
    long count = 0;
    SftTask scorer = new SftTask(model, null, null, List.of(), null, padId, 0);
    try (InferenceMode guard = new InferenceMode()) {
      for (int[] idx : Batching.sequential(examples.size(), 16)) {
        try (PointerScope scope = new PointerScope()) {
          List<Row> rows = new ArrayList<>();
          for (int i : idx) {
            SftEncoding.Example e = examples.get(i);
            rows.add(new Row(e.inputIds(), e.labels(), null));
          }
          Batch b = batch(rows);
          sum += Trainer.autocast(bf16, () -> scorer.lossSum(b)).item_double();
          count += b.trained;
        }
      }
    }
    model.train(wasTraining);
    return new double[] {count == 0 ? Double.NaN : sum / count, count};
  }
}
