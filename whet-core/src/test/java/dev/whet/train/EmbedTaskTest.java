package dev.whet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.whet.engine.Tensors;
import dev.whet.io.Tokenizer;
import dev.whet.model.EmbeddingModel;
import dev.whet.model.TinyBert;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ranking loss against a plain-Java computation from the same embeddings. */
@Tag("engine")
class EmbedTaskTest {
  @TempDir static Path dir;

  /** Five pairs of three classes ({@link #GROUPS}): two of cards, two of refunds, one top-up. */
  static final List<String> FIRST =
      List.of("a card", "my refund", "the card", "top up", "a refund");

  static final List<String> SECOND =
      List.of("card came", "refund late", "card lost", "top-up failed", "money back");

  static final int[] GROUPS = {0, 1, 0, 2, 1};

  @Test
  void rankingLossLeavesOutOtherPairsOfTheAnchorsClass() throws Exception {
    Path base = TinyBert.create(dir.resolve("tiny"), 5);
    try (EmbeddingModel model = EmbeddingModel.fromBase(base, 32, 0, 0, null, Map.of())) {
      EmbedTask.Pairs pairs = EmbedTask.Pairs.of(model.tokenizer(), FIRST, SECOND, null, null);
      int[] rows = {0, 1, 2, 3, 4};
      float[][] a = unit(model, pairs.first());
      float[][] b = unit(model, pairs.second());
      double plain = new EmbedTask(model, pairs, null).loss(rows).item_double();
      double grouped =
          new EmbedTask(model, pairs.withGroups(GROUPS), null).loss(rows).item_double();
      assertEquals(ranking(a, b, null), plain, 1e-4);
      assertEquals(ranking(a, b, GROUPS), grouped, 1e-4);
      assertNotEquals(plain, grouped, 1e-3);
    }
  }

  private static float[][] unit(EmbeddingModel model, long[][] texts) {
    Tensor x = model.embed(Tokenizer.Batch.pad(texts, null, model.tokenizer().padId()));
    float[][] v = Tensors.toMatrix(x);
    for (float[] row : v) {
      double n = Math.sqrt(EmbedTask.dot(row, row));
      for (int j = 0; j < row.length; j++) row[j] /= (float) n;
    }
    return v;
  }

  /** Mean cross-entropy of each anchor choosing its positive, scale 20, same-class pairs out. */
  private static double ranking(float[][] a, float[][] b, int[] groups) {
    double loss = 0;
    for (int i = 0; i < a.length; i++) {
      double sum = 0;
      for (int j = 0; j < b.length; j++) {
        if (groups != null && j != i && groups[i] == groups[j]) continue;
        sum += Math.exp(EmbedTask.SCALE * EmbedTask.dot(a[i], b[j]));
      }
      loss += Math.log(sum) - EmbedTask.SCALE * EmbedTask.dot(a[i], b[i]);
    }
    return loss / a.length;
  }
}
