package dev.whet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Issue 17, item 7: the loop reads a resolved, typed plan; the raw job (strings, "auto") cannot be
 * handed to it unresolved.
 */
class TrainingPlanTest {
  @Test
  void aResolvedJobBecomesATypedPlan() {
    JobConfig raw = new JobConfig();
    raw.train = "train.jsonl";
    raw.evalEvery = "25";
    assertThrows(IllegalStateException.class, raw::plan, "'auto' is left");

    TrainingPlan p = raw.resolve(500, job -> "bf16").plan();
    assertEquals("full", p.method());
    assertEquals(JobConfig.autoEpochs(500), p.epochs());
    assertEquals(JobConfig.autoLr("full"), p.lr());
    assertEquals("f1_macro", p.metric());
    assertEquals(25, p.evalEvery());
    assertTrue(p.bf16());
    assertEquals("bf16", p.precision());

    JobConfig perEpoch = raw.resolve(500, job -> "fp32");
    perEpoch.evalEvery = "epoch";
    assertEquals(0, perEpoch.plan().evalEvery(), "0: at the end of each epoch");
    assertEquals("fp32", perEpoch.plan().precision());
  }
}
