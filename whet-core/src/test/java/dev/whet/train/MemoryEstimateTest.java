package dev.whet.train;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.WhetException;
import dev.whet.model.EncoderConfig;
import org.junit.jupiter.api.Test;

class MemoryEstimateTest {
  static final EncoderConfig MINILM =
      new EncoderConfig("bert", 30522, 384, 6, 12, 1536, 512, 2, 1e-12, 0.1, 0.1, "gelu", 0, 0);

  @Test
  void countsWeightsOptimizerAndActivations() {
    MemoryEstimate e = MemoryEstimate.of(MINILM, 22_600_000, 22_600_000, 32, 128, false);
    assertTrue(e.weights() == 4L * 22_600_000);
    assertTrue(e.optimizer() == 8L * 22_600_000, "AdamW keeps two moments per trainable weight");
    // Activations dominate a 32 x 128 batch: hundreds of MB, not GB, for a 6-layer 384-wide model.
    assertTrue(e.activations() > 200e6 && e.activations() < 2e9, "activations " + e.activations());
    MemoryEstimate lora = MemoryEstimate.of(MINILM, 22_600_000, 300_000, 32, 128, false);
    assertTrue(lora.total() < e.total());
  }

  @Test
  void refusesAJobThatCannotFitWithAdvice() {
    JobConfig job = new JobConfig();
    job.batchSize = 512;
    job.maxLength = 512;
    MemoryEstimate e = MemoryEstimate.of(MINILM, 22_600_000, 22_600_000, 512, 512, false);
    WhetException x = assertThrows(WhetException.class, () -> e.check(2L << 30, job));
    assertTrue(x.getMessage().contains("only 2.00 GiB is available"), x.getMessage());
    assertTrue(x.getMessage().contains("--batch-size 128"), x.getMessage());
    assertTrue(x.getMessage().contains("lora"), x.getMessage());
    e.check(1L << 40, job); // fits in a terabyte
  }
}
