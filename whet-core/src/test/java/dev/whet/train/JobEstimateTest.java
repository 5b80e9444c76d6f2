package dev.whet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.engine.Engine;
import dev.whet.io.ModelCatalog;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class JobEstimateTest {
  /** One GFLOP/s in fp32 and two in bf16: round numbers to check the arithmetic by hand. */
  static final JobEstimate.Machine MACHINE = new JobEstimate.Machine(1e9, 2e9, true);

  static final Path MINILM = ModelCatalog.resolve(ModelCatalog.DEFAULT);
  static final Path TINY_DECODER = Path.of("src/test/resources/models/TinyStories-656K-hf");

  static JobConfig job(String epochs) {
    JobConfig c = new JobConfig();
    c.epochs = epochs;
    c.batchSize = 32;
    c.maxLength = 128;
    c.precision = "fp32";
    return c;
  }

  @Test
  void countsStepsAndTokensFromTheFile() {
    // 1,000 examples of 400 bytes: 100 tokens each, 32 steps an epoch (the last one short).
    JobEstimate e = JobEstimate.of(job("2"), MINILM, 1000, 400_000, MACHINE);
    assertEquals(64, e.steps());
    assertEquals(2 * 1000 * 100, e.tokens());
    // Long texts are cut at max_length.
    assertEquals(
        2 * 1000 * 128, JobEstimate.of(job("2"), MINILM, 1000, 4_000_000, MACHINE).tokens());
    // max_steps stops early; auto epochs are those training would choose.
    JobConfig capped = job("2");
    capped.maxSteps = 10;
    JobEstimate c = JobEstimate.of(capped, MINILM, 1000, 400_000, MACHINE);
    assertEquals(10, c.steps());
    assertEquals(10 * 32 * 100, c.tokens());
    assertEquals(
        JobConfig.autoEpochs(1000) * 1000L * 100,
        JobEstimate.of(job("auto"), MINILM, 1000, 400_000, MACHINE).tokens());
  }

  @Test
  void setfitCountsItsPairsNotItsExamples() {
    // 616 examples (banking77, 8 per intent), 20 rounds of one pair each: 12,320 pairs of two
    // 100-token texts, one pass: 385 steps, as the run takes.
    JobConfig setfit = job("auto");
    setfit.method = "setfit";
    JobEstimate e = JobEstimate.of(setfit, MINILM, 616, 616 * 400, MACHINE);
    assertEquals(385, e.steps());
    assertEquals(12_320L * 2 * 100, e.tokens());
    // The cosine loss draws a negative pair too, up to max_pairs.
    setfit.setfit.loss = "cosine";
    assertEquals(625, JobEstimate.of(setfit, MINILM, 616, 616 * 400, MACHINE).steps());
  }

  @Test
  void timeFollowsTheWorkAndThePrecision() {
    JobEstimate one = JobEstimate.of(job("1"), MINILM, 1000, 400_000, MACHINE);
    JobEstimate two = JobEstimate.of(job("2"), MINILM, 1000, 400_000, MACHINE);
    assertEquals(2 * one.seconds(), two.seconds(), 1e-9 * two.seconds());
    // MiniLM's six layers hold 10.6 M multiplied weights: 6 x 10.6 M flops per token in full
    // fine-tuning, plus attention; 100 k tokens at 0.4 GFLOP/s take minutes, not hours.
    assertTrue(one.seconds() > 6 * 10.6e6 * 100_000 / 0.5e9, "" + one.seconds());
    assertTrue(one.seconds() < 2 * 6 * 10.6e6 * 100_000 / 0.5e9, "" + one.seconds());

    JobConfig bf16 = job("1");
    bf16.precision = "auto";
    JobEstimate fast = JobEstimate.of(bf16, MINILM, 1000, 400_000, MACHINE);
    assertEquals("bf16", fast.precision());
    assertEquals(one.seconds() / 2, fast.seconds(), 1e-9 * one.seconds());
    JobEstimate emulated =
        JobEstimate.of(
            bf16, MINILM, 1000, 400_000, new JobEstimate.Machine(1e9, Double.NaN, false));
    assertEquals("fp32", emulated.precision(), "auto is fp32 without native bf16");

    JobConfig lora = job("1");
    lora.method = "lora";
    JobEstimate adapters = JobEstimate.of(lora, MINILM, 1000, 400_000, MACHINE);
    assertTrue(adapters.seconds() < one.seconds(), "no weight gradients for the frozen base");
    assertTrue(adapters.memory().total() < one.memory().total(), "no moments for frozen weights");
  }

  @Test
  void decodersCountTheirVocabularyProjection() {
    JobConfig sft = job("auto");
    sft.task = "sft";
    JobEstimate e = JobEstimate.of(sft, TINY_DECODER, 100, 40_000, MACHINE);
    assertEquals(3 * 100 * 100, e.tokens(), "sft trains three epochs unless told");
    assertEquals("fp32", e.precision());
    assertTrue(e.seconds() > 0 && e.memory().total() > 0);
    assertTrue(e.describe().startsWith("about "), e.describe());
  }

  @Test
  void measuresThisMachine() {
    JobEstimate.Machine m = JobEstimate.Machine.measure(Engine.defaultThreads());
    assertTrue(m.fp32Rate() > 1e8 && Double.isFinite(m.fp32Rate()), "fp32 " + m.fp32Rate());
    assertEquals(Engine.cpuHasNativeBf16(), m.nativeBf16());
    assertEquals(m.nativeBf16(), m.bf16Rate() > 0, "bf16 " + m.bf16Rate());
    System.out.printf(
        "matmul fp32 %.1f GFLOP/s, bf16 %.1f GFLOP/s%n", m.fp32Rate() / 1e9, m.bf16Rate() / 1e9);
  }
}
