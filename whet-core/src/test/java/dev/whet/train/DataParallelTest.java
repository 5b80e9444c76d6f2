package dev.whet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.engine.Collective;
import dev.whet.model.DecoderFiles;
import dev.whet.model.TinyBert;
import dev.whet.model.WeightDiff;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data parallel against one process: 2 ranks on loopback (threads of this JVM, each in its own c10d
 * Gloo group member) with global batch B end with the same weights as one process with batch B, and
 * their sharded validation gives the same metrics. Dropout is 0 here: with dropout, each rank draws
 * its own masks, which no single process draws.
 */
@Tag("engine")
class DataParallelTest {
  static final double TOLERANCE = 1e-5;

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static Path resource(String name) throws Exception {
    return Path.of(DataParallelTest.class.getResource(name).toURI());
  }

  /** Trains {@code job} on 2 ranks; returns rank 0's result and checks rank 1 left no run. */
  static TrainResult twoRanks(JobConfig job) throws Exception {
    return twoRanks(job, job);
  }

  /** Rank 0 trains {@code job0}, rank 1 {@code job1} (the same job, unless a test says not). */
  static TrainResult twoRanks(JobConfig job0, JobConfig job1) throws Exception {
    int port = freePort();
    // A thread per rank: rank 0 waits in the rendezvous for rank 1.
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      List<Future<TrainResult>> ranks =
          List.of(0, 1).stream()
              .map(
                  rank ->
                      threads.submit(
                          () -> {
                            try (Collective g =
                                Collective.join(
                                    "127.0.0.1", port, rank, 2, Duration.ofSeconds(60))) {
                              return Training.start((rank == 0 ? job0 : job1).copy(), g, List.of());
                            }
                          }))
              .toList();
      TrainResult zero = ranks.get(0).get(10, TimeUnit.MINUTES);
      TrainResult one = ranks.get(1).get(10, TimeUnit.MINUTES);
      assertEquals(zero.steps(), one.steps());
      assertFalse(Files.exists(one.runDir()), "rank 1 deletes its scratch copy of the job");
      return zero;
    } finally {
      threads.shutdownNow();
    }
  }

  /**
   * {@code job} as one process and a group can be compared: no dropout (each rank draws its own
   * masks), fp32, one thread a rank, no end-of-run evaluation.
   */
  static JobConfig comparable(JobConfig job) {
    job.dropout = 0;
    job.attentionDropout = 0;
    job.precision = "fp32";
    job.threads = 1;
    job.evaluate = false;
    return job;
  }

  /** Trains a copy of {@code job} in this process, into {@code tmp/one}. */
  static TrainResult oneProcess(JobConfig job, Path tmp) throws Exception {
    JobConfig one = job.copy();
    one.out = tmp.resolve("one").toString();
    return Training.start(one, List.of());
  }

  /** Trains a copy of {@code job} on 2 ranks, into {@code tmp/dp}. */
  static TrainResult twoRanks(JobConfig job, Path tmp) throws Exception {
    JobConfig dp = job.copy();
    dp.out = tmp.resolve("dp").toString();
    return twoRanks(dp);
  }

  static JobConfig encoderJob(Path tmp) throws Exception {
    Path base = TinyBert.create(tmp.resolve("tiny-bert"), 2);
    Path data = resource("/data/sst2/dev-200.jsonl");
    List<String> lines = Files.readAllLines(data);
    Path train = Files.write(tmp.resolve("train.jsonl"), lines.subList(0, 150));
    Path val = Files.write(tmp.resolve("val.jsonl"), lines.subList(150, 200));
    JobConfig job = new JobConfig();
    job.base = base.toString();
    job.train = train.toString();
    job.val = val.toString();
    job.batchSize = 15; // odd, so shards differ in size (8 and 7 rows)
    job.maxSteps = 6;
    job.gradAccum = 2; // accumulation over shards too
    job.lr = "1e-3";
    job.evalEvery = "3"; // rank 0 validates, both ranks continue
    job.seed = 5;
    return comparable(job);
  }

  @Test
  void twoRanksOfAnEncoderClassifierMatchOneProcess(@TempDir Path tmp) throws Exception {
    JobConfig job = encoderJob(tmp);
    TrainResult single = oneProcess(job, tmp);
    TrainResult parallel = twoRanks(job, tmp);

    assertEquals(single.steps(), parallel.steps());
    assertEquals(single.bestStep(), parallel.bestStep());
    assertTrue(Files.isDirectory(parallel.runDir().resolve("checkpoint-6")));
    assertSameWeights(single, parallel, "model.safetensors", "encoder");
    // f1 from predictions scored half by each rank and gathered.
    assertEquals(single.bestMetric(), parallel.bestMetric(), 1e-5);

    // Gradients summed after the backward pass, not during it: the same sums, the same weights.
    JobConfig after = job.copy();
    after.allreduce = "after_backward";
    after.out = tmp.resolve("after").toString();
    TrainResult afterBackward = twoRanks(after);
    assertEquals(
        0.0,
        WeightDiff.maxAbs(
            parallel.modelDir().resolve("model.safetensors"),
            afterBackward.modelDir().resolve("model.safetensors")));
  }

  /** A tagger: its validation (loss over windows, tags over sentences) is sharded too. */
  @Test
  void twoRanksOfATaggerMatchOneProcess(@TempDir Path tmp) throws Exception {
    Path base = TinyBert.create(tmp.resolve("tiny-bert"), 3);
    String conll = Files.readString(resource("/data/wnut17_dev.conll"));
    List<String> sentences = List.of(conll.strip().split("\n\s*\n"));
    int cut = sentences.size() * 2 / 3;
    JobConfig job = new JobConfig();
    job.task = "tokens";
    job.base = base.toString();
    job.train =
        Files.writeString(
                tmp.resolve("train.conll"), String.join("\n\n", sentences.subList(0, cut)) + "\n")
            .toString();
    job.val =
        Files.writeString(
                tmp.resolve("val.conll"),
                String.join("\n\n", sentences.subList(cut, sentences.size())) + "\n")
            .toString();
    job.batchSize = 7;
    job.maxSteps = 4;
    job.lr = "1e-3";
    job.evalEvery = "2";
    job.seed = 2;
    TrainResult single = oneProcess(comparable(job), tmp);
    TrainResult parallel = twoRanks(comparable(job), tmp);

    assertSameWeights(single, parallel, "model.safetensors", "tagger");
    for (String m : List.of("loss", "token_accuracy", "entity_f1")) {
      assertEquals(single.finalEval().get(m), parallel.finalEval().get(m), 1e-5, m);
    }
  }

  @Test
  void ranksThatWouldStartFromDifferentWeightsRefuseToTrain(@TempDir Path tmp) throws Exception {
    JobConfig job = encoderJob(tmp);
    job.out = tmp.resolve("dp").toString();
    JobConfig other = job.copy();
    other.seed = 6; // another new head
    ExecutionException e = assertThrows(ExecutionException.class, () -> twoRanks(job, other));
    assertTrue(
        e.getCause().getMessage().contains("start from different weights"),
        e.getCause().getMessage());
  }

  @Test
  void ranksOnDifferentTrainingFilesRefuseToTrain(@TempDir Path tmp) throws Exception {
    JobConfig job = encoderJob(tmp);
    job.out = tmp.resolve("dp").toString();
    List<String> lines = Files.readAllLines(Path.of(job.train));
    JobConfig other = job.copy();
    other.train =
        Files.write(tmp.resolve("other.jsonl"), lines.subList(1, lines.size())).toString();
    ExecutionException e = assertThrows(ExecutionException.class, () -> twoRanks(job, other));
    assertTrue(
        e.getCause().getMessage().contains("start from different training data"),
        e.getCause().getMessage());
  }

  @Test
  void twoRanksOfADecoderWithLoraMatchOneProcess(@TempDir Path tmp) throws Exception {
    decoderMatchesOneProcess(tmp, "sft", "style", "5e-3");
  }

  /**
   * DPO: each rank scores the reference once for every pair, then trains on its shard. Its loss
   * sums log-probabilities over whole answers, so float rounding (a shard pads to its own longest
   * pair) is larger than SFT's per-token mean: 1e-5 at SFT's 5e-3 learning rate, hence 1e-3 here.
   */
  @Test
  void twoRanksOfDpoWithLoraMatchOneProcess(@TempDir Path tmp) throws Exception {
    decoderMatchesOneProcess(tmp, "dpo", "prefs", "1e-3");
  }

  private static void decoderMatchesOneProcess(Path tmp, String task, String data, String lr)
      throws Exception {
    JobConfig job = new JobConfig();
    job.task = task;
    job.base = resource("/models/TinyStories-656K-hf").toString();
    job.train = resource("/data/sft/" + data + "_train.jsonl").toString();
    job.val = resource("/data/sft/" + data + "_val.jsonl").toString();
    job.batchSize = 8;
    job.maxSteps = 5;
    job.lr = lr;
    job.maxLength = 64;
    job.seed = 3;
    job.lora.rank = 8;
    job.lora.dropout = 0;
    job.lora.targets = List.of("q", "k", "v", "o", "gate", "up", "down");
    TrainResult single = oneProcess(comparable(job), tmp);
    TrainResult parallel = twoRanks(comparable(job), tmp);

    assertEquals(single.steps(), parallel.steps());
    assertSameWeights(single, parallel, DecoderFiles.ADAPTER_WEIGHTS, task + " with LoRA");
    // Validation loss, scored half by each rank and summed.
    assertEquals(single.bestMetric(), parallel.bestMetric(), 1e-5);
    // Each step's statistics beside the loss (DPO's rewards): the whole batch's, not a shard's.
    List<com.fasterxml.jackson.databind.JsonNode> alone = stepLines(single.runDir());
    List<com.fasterxml.jackson.databind.JsonNode> ranks = stepLines(parallel.runDir());
    assertEquals(alone.size(), ranks.size());
    assertEquals(task.equals("dpo"), ranks.get(0).has("reward_accuracy"));
    for (int i = 0; i < alone.size(); i++) {
      for (String m : List.of("loss", "reward_accuracy", "reward_margin", "chosen_reward")) {
        if (alone.get(i).has(m) || ranks.get(i).has(m)) {
          assertEquals(alone.get(i).path(m).asDouble(), ranks.get(i).path(m).asDouble(), 1e-4, m);
        }
      }
    }
  }

  /** The two runs' {@code weights} files (in model/) differ by at most {@link #TOLERANCE}. */
  private static void assertSameWeights(
      TrainResult single, TrainResult parallel, String weights, String what) throws Exception {
    double worst =
        WeightDiff.maxAbs(single.modelDir().resolve(weights), parallel.modelDir().resolve(weights));
    System.out.println("data parallel, " + what + ": max |weight difference| = " + worst);
    assertTrue(worst <= TOLERANCE, what + ": max abs weight difference " + worst);
  }

  /** The step lines (not evaluations) of a run's metrics.jsonl. */
  private static List<com.fasterxml.jackson.databind.JsonNode> stepLines(Path run)
      throws Exception {
    List<com.fasterxml.jackson.databind.JsonNode> out = new java.util.ArrayList<>();
    for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
      com.fasterxml.jackson.databind.JsonNode n = dev.whet.io.Json.MAPPER.readTree(line);
      if (n.has("grad_norm")) out.add(n);
    }
    return out;
  }
}
