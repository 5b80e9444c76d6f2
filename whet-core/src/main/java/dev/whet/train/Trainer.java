package dev.whet.train;

import dev.whet.WhetException;
import dev.whet.data.Batching;
import dev.whet.engine.Collective;
import dev.whet.engine.Engine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Fine-tunes a model on a {@link TrainTask} (a classifier, or a decoder learning completions): one
 * readable loop (setup, train, evaluate, checkpoint, resume), built from libtorch pieces —
 * autograd, its fused AdamW kernel ({@link FusedAdamW}) with parameter groups, CPU autocast. Side
 * effects go through {@link TrainerListener}s.
 *
 * <p>Data parallel, with a {@link Collective} of N ranks: every rank plans the same seeded batches,
 * takes rows {@code i % N == rank} of each, and weighs its shard's loss by its share of the whole
 * batch, so the gradients summed over the ranks are those of one process on the whole batch; the
 * optimizer then steps identically everywhere. Validation is sharded the same way where the task
 * can sum its parts ({@link TrainTask#validate(boolean, Shard)}); rank 0 decides early stopping for
 * all, and alone saves checkpoints and the model.
 */
public final class Trainer {
  /**
   * A gradient norm (before clipping) beyond which training has blown up: fine-tuning a pretrained
   * model sees norms of about 0.1 to 100; clipping would hide the blow-up, not cure it.
   */
  static final double EXPLODING_GRAD_NORM = 1e4;

  private final TrainingPlan plan;
  private final RunDir run;
  private final TrainTask task;
  private final List<TrainerListener> listeners;
  private final FusedAdamW optimizer = new FusedAdamW();
  private final boolean bf16;

  /** The data-parallel group, or null for one process. */
  private final Collective group;

  /** Sums the gradients over {@link #group}; null for one process. */
  private final GradientExchange exchange;

  /** Steps, and buckets of those steps sent while the backward pass was still going. */
  private long exchangedSteps;

  private long bucketsSentDuringBackward;

  /**
   * For the record: seconds from the end of this rank's backward pass until the step's small sum
   * (loss, tokens) came back — waiting for the slowest rank, and for the buckets sent before it —
   * and then until every bucket of gradients was summed.
   */
  private double waitSeconds;

  private double reduceSeconds;

  /**
   * @param plan the resolved job, typed ({@link JobConfig#plan()})
   */
  public Trainer(TrainingPlan plan, RunDir run, TrainTask task, List<TrainerListener> listeners) {
    this(plan, run, task, listeners, null);
  }

  /**
   * @param group the data-parallel group this process trains in, or null for one process; {@code
   *     listeners} and {@code run} are written only by its rank 0
   */
  public Trainer(
      TrainingPlan plan,
      RunDir run,
      TrainTask task,
      List<TrainerListener> listeners,
      Collective group) {
    this.plan = plan;
    this.group = group;
    this.run = run;
    this.task = task;
    this.listeners = listeners;
    this.bf16 = plan.bf16();
    task.freeze(plan);
    addParameterGroups();
    this.exchange =
        group == null
            ? null
            : new GradientExchange(
                group,
                dev.whet.model.Weights.parameters(task.module()).values().stream()
                    .filter(Tensor::requires_grad)
                    .toList(),
                plan.overlapAllReduce());
  }

  /**
   * AdamW groups: no weight decay on biases and LayerNorm weights (the standard recipe); with
   * layer-wise decay, layer i of L gets {@code lr * decay^(L - i)} and the embeddings {@code lr *
   * decay^(L + 1)}, the head the full rate.
   */
  private void addParameterGroups() {
    Map<String, Map<String, Tensor>> groups = new TreeMap<>();
    Map<String, double[]> settings = new TreeMap<>();
    for (Map.Entry<String, Tensor> p :
        dev.whet.model.Weights.parameters(task.module()).entrySet()) {
      Tensor t = p.getValue();
      if (!t.requires_grad()) {
        continue;
      }
      String name = p.getKey();
      boolean noDecay = task.noDecay(name);
      int depth = task.layerDepth(name); // distance from the head
      double lr = plan.lr() * Math.pow(plan.layerLrDecay(), depth);
      double wd = noDecay ? 0.0 : plan.weightDecay();
      String key = depth + "/" + wd;
      groups.computeIfAbsent(key, k -> new LinkedHashMap<>()).put(name, t);
      settings.put(key, new double[] {lr, wd});
    }
    groups.forEach(
        (key, params) -> optimizer.addGroup(params, settings.get(key)[0], settings.get(key)[1]));
  }

  public long trainableParameters() {
    long n = 0;
    for (Tensor t : optimizer.parameters()) {
      n += t.numel();
    }
    return n;
  }

  public long totalParameters() {
    long n = 0;
    for (Tensor t : dev.whet.model.Weights.parameters(task.module()).values()) {
      n += t.numel();
    }
    return n;
  }

  private int batchesPerEpoch() {
    return (task.lengths().length + plan.batchSize() - 1) / plan.batchSize();
  }

  /** Optimizer steps the job will take. */
  public long totalSteps() {
    if (plan.maxSteps() > 0) {
      return plan.maxSteps();
    }
    long perEpoch = (batchesPerEpoch() + plan.gradAccum() - 1) / plan.gradAccum();
    return Math.max(1, (long) Math.ceil(perEpoch * plan.epochs()));
  }

  private long warmupSteps() {
    return plan.warmup() < 1 ? Math.round(plan.warmup() * totalSteps()) : (long) plan.warmup();
  }

  /**
   * Trains to the end, or until early stopping, starting from {@code resume} (null for a fresh
   * run).
   */
  public TrainResult train(Checkpoint resume) {
    Engine.init();
    long total = totalSteps();
    long step = 0;
    int epoch = 0;
    int batchPos = 0;
    double best = Double.NaN;
    long bestStep = -1;
    int badEvals = 0;
    long realTokens = 0;
    double seconds = 0;
    if (resume != null) {
      Path dir = run.checkpoint(resume.step());
      Checkpoint.loadWeights(dir, task.module());
      Checkpoint.loadOptimizer(dir, optimizer);
      resume.restoreRng();
      step = resume.step();
      epoch = resume.epoch();
      batchPos = resume.batchInEpoch();
      best = resume.bestMetric();
      bestStep = resume.bestStep();
      badEvals = resume.badEvals();
      realTokens = resume.realTokens();
      seconds = resume.trainSeconds();
      event(
          "resumed",
          "resumed from checkpoint-" + step + " (epoch " + epoch + ", batch " + batchPos + ")");
    } else {
      event(
          "started",
          "training "
              + trainableParameters()
              + " of "
              + totalParameters()
              + " parameters for "
              + total
              + " steps in "
              + plan.precision()
              + " on "
              + Engine.threads()
              + " threads"
              + (group == null ? "" : " on each of " + group.world() + " ranks"));
    }
    for (TrainerListener l : listeners) {
      l.onStart(
          new TrainerListener.Start(
              step,
              total,
              (int) Math.ceil(plan.epochs()),
              trainableParameters(),
              totalParameters(),
              plan.precision(),
              Engine.threads(),
              resume != null));
    }
    if (group != null) {
      checkSameStart();
    }
    long evalEvery = plan.evalEvery();
    boolean higher = ValidationMetrics.higherIsBetter(plan.metric());
    boolean stop = false;
    int[] lengths = task.lengths();
    task.module().train(true);
    Shard shard = Shard.of(group);
    while (step < total && !stop) {
      List<int[]> batches = Batching.lengthGrouped(lengths, plan.batchSize(), plan.seed(), epoch);
      while (batchPos < batches.size() && step < total && !stop) {
        int count = Math.min(plan.gradAccum(), batches.size() - batchPos);
        List<int[]> micro = batches.subList(batchPos, batchPos + count);
        long t0 = System.nanoTime();
        double loss;
        double gradNorm;
        long tokens = 0;
        double lr;
        Map<String, Double> stepMetrics;
        try (PointerScope scope = new PointerScope()) {
          double weight = 0;
          for (int[] b : micro) {
            weight += task.weight(b); // the whole batch's, which every rank can compute
          }
          loss = 0;
          double shardWeight = 0; // this rank's part of the step
          if (group != null) {
            // Dropout masks can't match one process's anyway; a stream that is a function of
            // (seed, rank, step) makes resume exact at any world size with no state to save.
            torch.manual_seed(dropoutSeed(plan.seed(), shard.rank(), step));
          }
          for (int m = 0; m < micro.size(); m++) {
            int[] b = shard.rows(micro.get(m));
            if (b.length == 0) {
              continue; // a batch smaller than the group: this rank has no row of it
            }
            if (exchange != null && m == micro.size() - 1) {
              exchange.beforeLastBackward();
            }
            tokens += task.tokens(b);
            shardWeight += task.weight(b);
            Tensor l = autocast(bf16, () -> task.loss(b));
            // Weight each micro-batch (or shard) by its share of the step (of rows, or of trained
            // tokens) so accumulation, and the sum over ranks, equal one big batch.
            double share = weight > 0 ? task.weight(b) / weight : 0;
            Tensor scaled = l.mul(new org.bytedeco.pytorch.Scalar(share));
            scaled.backward();
            loss += scaled.item_double();
          }
          stepMetrics = task.stepMetrics();
          if (group != null) {
            // The step statistics are means over this rank's rows: weighed by its share of the
            // step, their sums over the ranks are the whole step's means.
            List<String> names = task.stepMetricNames();
            double share = weight > 0 ? shardWeight / weight : 0;
            double[] metrics = new double[names.size()];
            for (int i = 0; i < metrics.length; i++) {
              metrics[i] = stepMetrics.getOrDefault(names.get(i), 0.0) * share;
            }
            double[] sums = sumOverRanks(loss, tokens, metrics);
            loss = sums[0];
            tokens = (long) sums[1];
            Map<String, Double> whole = new LinkedHashMap<>();
            for (int i = 0; i < metrics.length; i++) whole.put(names.get(i), sums[2 + i]);
            stepMetrics = whole;
          }
          gradNorm = optimizer.gradNorm();
          if (!Double.isFinite(loss) || !(gradNorm < EXPLODING_GRAD_NORM)) {
            diverged(step, loss, gradNorm);
          }
          double factor = Schedule.parse(plan.schedule()).factor(step, warmupSteps(), total);
          lr = plan.lr() * factor;
          optimizer.step(factor, clipDivisor(gradNorm));
          optimizer.zeroGrad();
        }
        batchPos += count;
        step++;
        double dt = (System.nanoTime() - t0) / 1e9;
        seconds += dt;
        realTokens += tokens;
        double epochProgress = epoch + (double) batchPos / batches.size();
        for (TrainerListener l : listeners) {
          l.onStep(
              new TrainerListener.Step(
                  step, total, epochProgress, loss, lr, gradNorm, tokens, dt, stepMetrics));
        }
        boolean endOfEpoch = batchPos >= batches.size();
        boolean evalNow =
            evalEvery > 0 ? step % evalEvery == 0 || step == total : endOfEpoch || step == total;
        int nextEpoch = endOfEpoch ? epoch + 1 : epoch;
        int nextPos = endOfEpoch ? 0 : batchPos;
        if (evalNow) {
          if (task.hasValidation()) {
            Map<String, Double> m = task.validate(bf16, shard);
            for (TrainerListener l : listeners) {
              l.onEval(step, m);
            }
            double v = m.get(plan.metric());
            if (Double.isNaN(best) || (higher ? v > best : v < best)) {
              best = v;
              bestStep = step;
              badEvals = 0;
            } else {
              badEvals++;
              if (plan.earlyStoppingPatience() > 0 && badEvals >= plan.earlyStoppingPatience()) {
                stop = true;
                event(
                    "early_stop",
                    "no improvement in "
                        + plan.metric()
                        + " for "
                        + badEvals
                        + " evaluations; best "
                        + fmt(best)
                        + " at step "
                        + bestStep);
              }
            }
          }
          if (group != null) {
            // Every rank follows rank 0's decision: a task that scores the whole set on each rank
            // could round differently on another kind of CPU.
            stop = group.sum(new double[] {shard.rank() == 0 && stop ? 1 : 0})[0] > 0;
          }
          saveCheckpoint(step, nextEpoch, nextPos, best, bestStep, badEvals, realTokens, seconds);
        } else if (plan.saveEvery() > 0 && step % plan.saveEvery() == 0) {
          saveCheckpoint(step, nextEpoch, nextPos, best, bestStep, badEvals, realTokens, seconds);
        }
      }
      if (batchPos >= batches.size()) {
        epoch++;
        batchPos = 0;
      }
    }
    return finish(step, best, bestStep, realTokens, seconds, stop);
  }

  /**
   * Fails unless every rank starts from the same weights (same base, seed, checkpoint) and the same
   * training data: the ranks only ever exchange gradients, so a difference now would last the whole
   * run, silently. Also the point where every rank has built its model before any draws dropout
   * masks.
   */
  private void checkSameStart() {
    double weights = 0;
    try (PointerScope scope = new PointerScope()) {
      for (Tensor p : dev.whet.model.Weights.parameters(task.module()).values()) {
        weights += p.to(torch.ScalarType.Double).sum().item_double();
      }
    }
    sameOnEveryRank(
        "weights", weights, "give every rank the same job, base model and run directory");
    // Token counts in order: another file (or one tokenized differently) almost surely differs.
    sameOnEveryRank(
        "training data",
        java.util.Arrays.hashCode(task.lengths()),
        "give every rank the same training file, byte for byte, at the path the job names");
  }

  /** Fails unless {@code value} is the same on every rank. */
  private void sameOnEveryRank(String what, double value, String advice) {
    double[] mine = new double[group.world()];
    mine[group.rank()] = value;
    double[] all = group.sum(mine); // each rank's value at its index
    for (int r = 0; r < all.length; r++) {
      if (all[r] != value) {
        throw new WhetException(
            "rank "
                + group.rank()
                + " and rank "
                + r
                + " start from different "
                + what
                + " (checksums "
                + value
                + " and "
                + all[r]
                + "): "
                + advice);
      }
    }
  }

  /** The dropout seed of a rank at a step: splitmix64 of the three, so nearby inputs differ. */
  static long dropoutSeed(long seed, int rank, long step) {
    long z = seed * 0x9E3779B97F4A7C15L + rank * 0xBF58476D1CE4E5B9L + step * 0x94D049BB133111EBL;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return (z ^ (z >>> 31)) & Long.MAX_VALUE;
  }

  /**
   * Sums the step over the ranks: its loss, tokens and {@code metrics} (returned in that order) and
   * the trainable gradients (in place). A parameter that got a gradient on no rank keeps none, so
   * the optimizer updates the same parameters everywhere, as one process would.
   */
  private double[] sumOverRanks(double loss, long tokens, double[] metrics) {
    long t0 = System.nanoTime();
    exchange.sendRest();
    bucketsSentDuringBackward += exchange.sentDuringBackward();
    exchangedSteps++;
    double[] has = exchange.hasGradient();
    int head = 2 + metrics.length;
    double[] stats = new double[head + has.length];
    stats[0] = loss;
    stats[1] = tokens;
    System.arraycopy(metrics, 0, stats, 2, metrics.length);
    System.arraycopy(has, 0, stats, head, has.length);
    // Started after every bucket, so on every rank in the same order; it returns once the slowest
    // rank has finished its backward pass (and, on Gloo's threads, the buckets sent before it).
    double[] sums = group.sum(stats);
    long t1 = System.nanoTime();
    waitSeconds += (t1 - t0) / 1e9;
    exchange.awaitSums(java.util.Arrays.copyOfRange(sums, head, sums.length));
    reduceSeconds += (System.nanoTime() - t1) / 1e9;
    return sums;
  }

  /**
   * What the gradients are divided by to clip their joint norm to {@code max_grad_norm} (1 when
   * they are within it), as {@code clip_grad_norm_} scales them by {@code max / (norm + 1e-6)}.
   */
  private double clipDivisor(double gradNorm) {
    return plan.maxGradNorm() > 0 && gradNorm + 1e-6 > plan.maxGradNorm()
        ? (gradNorm + 1e-6) / plan.maxGradNorm()
        : 1;
  }

  /** {@code f} with bf16 CPU autocast on when {@code bf16}; results come back as float32. */
  public static Tensor autocast(boolean bf16, java.util.function.Supplier<Tensor> f) {
    return underAutocast(bf16, () -> bf16 ? f.get().to(torch.ScalarType.Float) : f.get());
  }

  /** Runs {@code f} under bf16 autocast when {@code bf16}, else as it is. */
  public static <T> T underAutocast(boolean bf16, java.util.function.Supplier<T> f) {
    if (!bf16) {
      return f.get();
    }
    torch.set_autocast_enabled(torch.DeviceType.CPU, true);
    torch.set_autocast_dtype(torch.DeviceType.CPU, torch.ScalarType.BFloat16);
    try {
      return f.get();
    } finally {
      torch.set_autocast_enabled(torch.DeviceType.CPU, false);
      torch.clear_cache(); // autocast's cast cache
    }
  }

  private void saveCheckpoint(
      long step,
      int epoch,
      int pos,
      double best,
      long bestStep,
      int badEvals,
      long tokens,
      double seconds) {
    if (group != null && group.rank() != 0) {
      return; // rank 0 writes the run
    }
    Checkpoint c =
        new Checkpoint(
            step, epoch, pos, best, bestStep, badEvals, tokens, seconds, Checkpoint.rngNow());
    Path dir = c.save(run, task.checkpointTensors(plan), optimizer);
    for (TrainerListener l : listeners) {
      l.onCheckpoint(step, dir);
    }
    event("checkpoint", "saved " + run.path().relativize(dir));
    prune(bestStep);
  }

  /** Keeps the last {@code keep_checkpoints} and the best one. */
  private void prune(long bestStep) {
    List<Path> all = run.checkpoints();
    for (int i = 0; i < all.size() - plan.keepCheckpoints(); i++) {
      if (RunDir.stepOf(all.get(i)) != bestStep) {
        try {
          dev.whet.io.DiskFiles.delete(all.get(i));
        } catch (java.io.IOException e) {
          event("warning", "could not delete " + all.get(i) + ": " + e.getMessage());
        }
      }
    }
  }

  private void diverged(long step, double loss, double gradNorm) {
    List<Path> saved = run.checkpoints();
    String last =
        saved.isEmpty()
            ? "no checkpoint was saved yet"
            : "the last good checkpoint is " + saved.get(saved.size() - 1).getFileName();
    String what =
        !Double.isFinite(loss)
            ? "the loss became " + loss
            : "the gradient norm exploded to " + gradNorm + " (limit " + EXPLODING_GRAD_NORM + ")";
    String message =
        "training diverged at step "
            + (step + 1)
            + ": "
            + what
            + "; "
            + last
            + ". Lower the learning rate (now "
            + plan.lr()
            + "), keep max_grad_norm at 1.0, or try --precision fp32.";
    event("diverged", message);
    throw new WhetException(message);
  }

  private TrainResult finish(
      long steps, double best, long bestStep, long tokens, double seconds, boolean stoppedEarly) {
    Map<String, Double> finalEval = Map.of();
    if (group == null || group.rank() == 0) { // rank 0 saves the model; another only reports
      finalEval = saveModel(best, bestStep, seconds);
    }
    TrainResult r =
        new TrainResult(
            run.path(),
            run.model(),
            plan.metric(),
            best,
            bestStep,
            steps,
            seconds,
            tokens,
            stoppedEarly,
            finalEval,
            Map.of(),
            null);
    for (TrainerListener l : listeners) {
      l.onEnd(r);
    }
    return r;
  }

  /**
   * Writes the model — the best checkpoint's weights when there was validation — with its facts in
   * whet.json; returns the best checkpoint's validation metrics (none without validation).
   */
  private Map<String, Double> saveModel(double best, long bestStep, double seconds) {
    Map<String, Double> finalEval = Map.of();
    if (task.hasValidation() && bestStep > 0 && Files.isDirectory(run.checkpoint(bestStep))) {
      // Hand back the best model, not merely the last one.
      Checkpoint.loadWeights(run.checkpoint(bestStep), task.module());
      finalEval = task.validate(bf16);
    }
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("method", plan.method());
    info.put("precision", plan.precision());
    info.put("threads", Engine.threads());
    if (group != null) {
      info.put("world_size", group.world());
      // Over the steps this process took (those since a resume, not the whole run's).
      info.put("exchanged_steps", exchangedSteps);
      info.put("rank_wait_seconds", waitSeconds);
      info.put("allreduce_seconds", reduceSeconds);
      info.put("allreduce", plan.overlapAllReduce() ? "overlap" : "after_backward");
      info.put("gradient_buckets", exchange.buckets());
      info.put(
          "buckets_sent_during_backward",
          exchangedSteps == 0 ? 0.0 : (double) bucketsSentDuringBackward / exchangedSteps);
    }
    info.put("best_step", bestStep);
    info.put("train_seconds", seconds);
    info.put("trainable_parameters", trainableParameters());
    info.put("total_parameters", totalParameters());
    task.save(run.model(), plan, info);
    event(
        "finished",
        "model saved to "
            + run.model()
            + (Double.isNaN(best)
                ? ""
                : "; best " + plan.metric() + " " + fmt(best) + " at step " + bestStep));
    return finalEval;
  }

  private void event(String kind, String message) {
    for (TrainerListener l : listeners) {
      l.onEvent(kind, message);
    }
  }

  private static String fmt(double x) {
    return String.format(java.util.Locale.ROOT, "%.4f", x);
  }
}
