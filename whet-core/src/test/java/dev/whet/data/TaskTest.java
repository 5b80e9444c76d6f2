package dev.whet.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.train.JobConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 17, item 6: the task vocabulary lives in the enum, jobs' included. */
class TaskTest {
  @Test
  void jobTasksComeFromTheEnum() {
    assertEquals(
        List.of("classify", "multilabel", "pair", "tokens", "embed", "similarity", "sft", "dpo"),
        Task.jobTasks());
    for (Task t : List.of(Task.GENERATION, Task.CHAT, Task.INSTRUCTION)) {
      assertEquals(Task.SFT, t.jobTask(), t + " files train a decoder");
      assertTrue(t.generates());
    }
    assertEquals(Task.DPO, Task.PREFERENCE.jobTask(), "preference pairs train with DPO");
    assertEquals("multilabel", Task.MULTI_LABEL.jobTask());
    assertTrue(Task.PAIR_CLASSIFICATION.classifies());
    assertFalse(Task.TOKEN_CLASSIFICATION.classifies());
    assertEquals("tokens", Task.TOKEN_CLASSIFICATION.jobTask(), "not a job task: refused there");
    for (String job : Task.jobTasks()) {
      JobConfig c = new JobConfig();
      c.task = job;
      c.train = "train.jsonl";
      c.validate(); // every job task the enum names is one a job accepts
    }
    assertEquals(Task.CLASSIFICATION.cliName(), new JobConfig().task);
  }
}
