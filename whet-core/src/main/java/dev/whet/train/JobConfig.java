package dev.whet.train;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.whet.WhetException;
import dev.whet.io.ModelCatalog;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A training job: one schema for {@code whet train job.yaml}, for flags (which win) and for the
 * HTTP API. Every field has a default; {@code "auto"} values are chosen by {@link #resolve} from
 * the data and method, and the resolved job is what a run records in {@code job.yaml}. Unknown keys
 * are errors.
 */
@JsonPropertyOrder(alphabetic = false)
@JsonInclude(JsonInclude.Include.ALWAYS)
public final class JobConfig {
  // --- what to train on
  public String base = ModelCatalog.DEFAULT;

  /**
   * {@code classify}, {@code multilabel}, {@code pair} (a classifier on an encoder), {@code tokens}
   * (a tag per word: entity extraction), {@code embed} or {@code similarity} (sentence embeddings
   * from pairs or graded pairs) or {@code sft} (supervised fine-tuning of a decoder on
   * prompt/completion, chat or instruction records).
   */
  public String task = dev.whet.data.Task.CLASSIFICATION.cliName();

  public String train;
  public String val;
  public String test;
  public String out;
  public String textColumn;
  public String labelColumn;

  // --- hyperparameters
  public String epochs = "auto";
  public long maxSteps = 0;
  public int batchSize = 32;
  public String lr = "auto";
  public double weightDecay = 0.01;

  /** Warm-up: a ratio of the total steps when below 1, else a number of steps. */
  public double warmup = 0.1;

  public String schedule = "linear";
  public int gradAccum = 1;
  public double maxGradNorm = 1.0;
  public int maxLength = 128;

  /** On hidden states (after embeddings, attention output, feed-forward) and before the head. */
  public double dropout = 0.1;

  /**
   * On the attention probabilities (BERT's {@code attention_probs_dropout_prob}, 0.1 in its
   * pre-training). Off by default: libtorch's fused CPU attention kernel takes no dropout, so at 0
   * training runs it and a 32 × 128 step of the default model is about 14 % faster, and the default
   * SST-2 recipe scored as well or better without it (docs/benchmarks.md). Set 0.1 for BERT's
   * original recipe.
   */
  public double attentionDropout = 0.0;

  public long seed = 42;

  // --- evaluation, checkpoints, stopping
  /** {@code epoch}, or a number of optimizer steps. */
  public String evalEvery = "epoch";

  /**
   * {@code auto} (f1_macro for classifiers, entity_f1 for tokens, loss for sft); accuracy,
   * f1_macro, loss for classifiers; entity_f1, token_accuracy, loss for tokens; spearman, loss for
   * similarity (auto: spearman); mrr, recall_at_1, recall_at_10, loss for embed (auto: mrr); loss,
   * perplexity for sft; loss, reward_accuracy, reward_margin for dpo (auto: loss).
   */
  public String metric = "auto";

  public int earlyStoppingPatience = 0;
  public long saveEvery = 0;
  public int keepCheckpoints = 2;

  // --- architecture
  /**
   * {@code auto} (lora for sft and dpo, full for encoders), {@code full}, {@code freeze}
   * (embeddings and the first freeze_layers layers) or {@code lora}.
   */
  public String method = "auto";

  public int freezeLayers = 0;
  public double layerLrDecay = 1.0;
  public LoraConfig lora = new LoraConfig();
  public SftConfig sft = new SftConfig();
  public DpoConfig dpo = new DpoConfig();
  public SetFitConfig setfit = new SetFitConfig();

  /** {@code auto} (the base model's sentence pooling, else mean), {@code cls} or {@code mean}. */
  public String pooling = "auto";

  /**
   * Tokens: also train a word's later sub-tokens (on its tag, B- as I-); by default only its first
   * sub-token carries the tag, the one prediction reads.
   */
  public boolean labelAllSubtokens = false;

  /**
   * With neither a validation nor a test file, and evaluation on: the share of the training file
   * held out (stratified by label) to validate and evaluate on, so that no model comes out
   * unmeasured; 0 holds nothing out. The service asks for 0.1; the CLI's default is 0.
   */
  public double holdout = 0;

  // --- engine
  /**
   * {@code auto} (bf16 autocast where this machine runs the model's layer clearly faster in it, by
   * measurement: {@link PrecisionChoice}), {@code fp32} or {@code bf16}.
   */
  public String precision = "auto";

  /** Intra-op threads; 0 for {@code Engine.defaultThreads()} (every core, or OMP_NUM_THREADS). */
  public int threads = 0;

  /**
   * With several ranks ({@code whet train --world-size}): {@code overlap} sums each bucket of
   * gradients over the ranks as soon as the backward pass has made it, while the pass goes on;
   * {@code after_backward} sums them all once it is over. The weights come out the same.
   */
  public String allreduce = "overlap";

  /**
   * Evaluate at the end (test set, else validation set): baselines, forgetting check, report.html.
   */
  public boolean evaluate = true;

  /**
   * SetFit settings, used when method is setfit: the contrastive pairs the encoder learns from
   * before a logistic regression is fitted on its embeddings.
   */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public static final class SetFitConfig {
    /** Rounds of pair drawing: each gives every example one same-label and one other-label pair. */
    public int iterations = 20;

    /** At most this many pairs in all (a CPU budget; SetFit's own default has none). */
    public int maxPairs = 20_000;

    /**
     * {@code ranking}: same-label pairs under the multiple-negatives ranking loss, the batch's
     * other labels as negatives; {@code cosine}: SetFit's CosineSimilarityLoss on same-label (1)
     * and other-label (0) pairs.
     */
    public String loss = "ranking";
  }

  /** LoRA settings, used when method is lora. */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public static final class LoraConfig {
    public int rank = 8;
    public double alpha = 16;
    public double dropout = 0.1;
    public List<String> targets = new ArrayList<>(List.of("q", "k", "v", "o"));
  }

  /** Supervised fine-tuning settings, used when task is sft. */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public static final class SftConfig {
    /** Train on prompt (user, system) tokens too; by default only completions and EOS. */
    public boolean trainOnPrompt = false;

    /** Pack several short examples per row of max_length tokens, never attending across them. */
    public boolean packing = false;

    /**
     * Held-out examples (test set, else validation set) generated greedily at the end and scored
     * with exact match and ROUGE-L against their completions, before and after; 0 turns it off.
     */
    public int generateEval = 20;

    /** Longest generation in that check. */
    public int maxNewTokens = 64;

    /**
     * Compare the fine-tune on the held-out examples with what the base model does by prompting:
     * zero-shot, few-shot (random and retrieved examples) and, with documents, RAG.
     */
    public boolean baselines = true;

    /** Training examples shown in the few-shot baselines' prompts. */
    public int shots = 4;

    /** The base model's system prompt in the baselines (prompt engineering); none by default. */
    public String systemPrompt = null;

    /** Passages (JSONL of {"text"}, or text split at blank lines) for the RAG baseline. */
    public String documents = null;
  }

  /** Preference tuning settings, used when task is dpo. */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public static final class DpoConfig {
    /**
     * How far the policy may move from the reference model (the DPO paper's β): higher keeps it
     * closer. 0.1 is the paper's and TRL's default.
     */
    public double beta = 0.1;
  }

  static final ObjectMapper YAML =
      new ObjectMapper(
              new YAMLFactory()
                  .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                  .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES))
          .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** Reads a job file; unknown keys and wrong types are errors naming the file and key. */
  public static JobConfig read(Path file) {
    try {
      JobConfig c = YAML.readValue(file.toFile(), JobConfig.class);
      return c == null ? new JobConfig() : c;
    } catch (UnrecognizedPropertyException e) {
      throw new WhetException(
          file + ": unknown key '" + e.getPropertyName() + "' (see `whet train --print-config`)");
    } catch (IOException e) {
      throw new WhetException(file + ": " + e.getMessage(), e);
    }
  }

  /** Applies {@code key=value} overrides ({@code lora.rank=16}); keys as in the YAML. */
  public JobConfig with(List<String> overrides) {
    ObjectNode tree = YAML.valueToTree(this);
    for (String o : overrides) {
      int eq = o.indexOf('=');
      if (eq <= 0) {
        throw new WhetException(
            "override '" + o + "' must look like key=value (e.g. lora.rank=16)");
      }
      String[] path = o.substring(0, eq).split("\\.");
      ObjectNode node = tree;
      for (int i = 0; i < path.length - 1; i++) {
        JsonNode child = node.get(path[i]);
        if (!(child instanceof ObjectNode)) {
          throw new WhetException("override '" + o + "': '" + path[i] + "' is not a section");
        }
        node = (ObjectNode) child;
      }
      String key = path[path.length - 1];
      if (!node.has(key)) {
        throw new WhetException("override '" + o + "': unknown key '" + o.substring(0, eq) + "'");
      }
      String value = o.substring(eq + 1);
      try {
        node.set(key, YAML.readTree(value.isEmpty() ? "null" : value));
      } catch (IOException e) {
        throw new WhetException("override '" + o + "': cannot parse value '" + value + "'");
      }
    }
    try {
      return YAML.treeToValue(tree, JobConfig.class);
    } catch (IOException e) {
      throw new WhetException("overrides: " + e.getMessage(), e);
    }
  }

  /** The job as YAML, starting with the command that runs it. */
  public String toYaml() {
    try {
      return "# whet train job.yaml\n" + YAML.writeValueAsString(this);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public void write(Path file) {
    dev.whet.io.Atomic.writeString(file, toYaml());
  }

  /** A copy (configs are mutable while flags are applied). */
  public JobConfig copy() {
    return with(List.of());
  }

  /** Checks ranges and spellings; called before anything is loaded. */
  public void validate() {
    require(batchSize > 0, "batch_size must be positive");
    require(gradAccum > 0, "grad_accum must be positive");
    require(maxLength >= 8, "max_length must be at least 8");
    require(dropout >= 0 && dropout < 1, "dropout must be in [0, 1)");
    require(attentionDropout >= 0 && attentionDropout < 1, "attention_dropout must be in [0, 1)");
    require(weightDecay >= 0, "weight_decay must not be negative");
    require(warmup >= 0, "warmup must not be negative");
    require(maxGradNorm >= 0, "max_grad_norm must not be negative (0 turns clipping off)");
    require(layerLrDecay > 0 && layerLrDecay <= 1, "layer_lr_decay must be in (0, 1]");
    require(holdout >= 0 && holdout < 1, "holdout must be a share in [0, 1)");
    require(
        allreduce.equals("overlap") || allreduce.equals("after_backward"),
        "allreduce must be overlap or after_backward, not '" + allreduce + "'");
    require(keepCheckpoints >= 1, "keep_checkpoints must be at least 1");
    require(
        dev.whet.data.Task.jobTasks().contains(task),
        "task '" + task + "' is not one of " + String.join(", ", dev.whet.data.Task.jobTasks()));
    require(
        List.of("auto", "full", "freeze", "lora", "setfit").contains(method),
        "method '"
            + method
            + "' is not one of full, freeze, lora, setfit (or auto: lora for sft and dpo, else full)");
    require(List.of("auto", "cls", "mean").contains(pooling), "pooling must be auto, cls or mean");
    require(
        List.of("auto", "fp32", "bf16").contains(precision),
        "precision must be auto, fp32 or bf16");
    require(threads >= 0, "threads must be 0 (every core) or a positive count, not " + threads);
    List<String> metrics =
        switch (task) {
          case "sft" -> List.of("auto", "loss", "perplexity");
          case "dpo" -> List.of("auto", "loss", "reward_accuracy", "reward_margin");
          case "tokens" -> List.of("auto", "entity_f1", "token_accuracy", "loss");
          case "similarity" -> List.of("auto", "spearman", "loss");
          case "embed" -> List.of("auto", "mrr", "recall_at_1", "recall_at_10", "loss");
          default -> List.of("auto", "accuracy", "f1_macro", "loss");
        };
    require(
        metrics.contains(metric),
        "metric for " + task + " must be one of " + String.join(", ", metrics));
    require(
        !method.equals("setfit") || task.equals(dev.whet.data.Task.CLASSIFICATION.cliName()),
        "method setfit trains single-label classifiers (task classify), not " + task);
    require(
        setfit.iterations > 0 && setfit.maxPairs > 0,
        "setfit.iterations and setfit.max_pairs must be positive");
    require(
        List.of("ranking", "cosine").contains(setfit.loss),
        "setfit.loss '" + setfit.loss + "' is not one of ranking, cosine");
    require(sft.generateEval >= 0, "sft.generate_eval must not be negative");
    require(sft.maxNewTokens > 0, "sft.max_new_tokens must be positive");
    require(sft.shots >= 0, "sft.shots must not be negative");
    require(dpo.beta > 0, "dpo.beta must be positive");
    require(
        epochs.equals("auto") || isPositiveNumber(epochs),
        "epochs must be auto or a positive number");
    require(lr.equals("auto") || isPositiveNumber(lr), "lr must be auto or a positive number");
    require(
        evalEvery.equals("epoch") || isPositiveNumber(evalEvery),
        "eval_every must be epoch or a positive number of steps");
    Schedule.parse(schedule);
    if (method.equals("lora") || (method.equals("auto") && trainsDecoder())) {
      loraAdapters(); // its constructor checks rank, alpha, dropout and targets
    }
    require(train != null, "no training data: give --train FILE or train: in the job file");
  }

  private static boolean isPositiveNumber(String s) {
    try {
      return Double.parseDouble(s) > 0;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new WhetException("job: " + message);
    }
  }

  /** Epochs chosen for {@code auto}: more passes over small sets, fewer over large ones. */
  public static int autoEpochs(int examples) {
    if (examples < 1_000) {
      return 10;
    }
    if (examples < 5_000) {
      return 5;
    }
    if (examples < 20_000) {
      return 3;
    }
    return 2;
  }

  /** Learning rate chosen for {@code auto}: usual values for each method. */
  public static double autoLr(String method) {
    return switch (method) {
      case "lora" -> 5e-4;
      case "freeze" -> 1e-4;
      case "setfit" -> 2e-5; // SetFit's body learning rate
      default -> 5e-5;
    };
  }

  /** The method {@code auto} stands for: LoRA for decoders, else full fine-tuning. */
  public String effectiveMethod() {
    return !method.equals("auto") ? method : trainsDecoder() ? "lora" : "full";
  }

  /**
   * The learning rate {@code auto} stands for: the usual one of the method; for DPO, which moves a
   * model that already answers well only a little, a tenth of it.
   */
  public double autoLr() {
    return autoLr(effectiveMethod()) * (tunesPreferences() ? 0.1 : 1);
  }

  /** The LoRA adapters a resolved job adds to its model, or null when its method is not lora. */
  public dev.whet.model.Lora adapters() {
    return method.equals("lora") ? loraAdapters() : null;
  }

  private dev.whet.model.Lora loraAdapters() {
    return new dev.whet.model.Lora(lora.rank, lora.alpha, lora.dropout, lora.targets);
  }

  /** Whether this job fine-tunes a decoder (task sft or dpo) rather than an encoder. */
  public boolean trainsDecoder() {
    return task.equals(dev.whet.data.Task.SFT) || tunesPreferences();
  }

  /** Whether this job tunes a decoder on preference pairs (task dpo). */
  public boolean tunesPreferences() {
    return task.equals(dev.whet.data.Task.DPO);
  }

  /** Whether this job trains a token classifier (task tokens). */
  public boolean tagsTokens() {
    return task.equals(dev.whet.data.Task.TOKEN_CLASSIFICATION.cliName());
  }

  /** Whether this job fine-tunes sentence embeddings (task embed or similarity). */
  public boolean trainsEmbeddings() {
    return !trainsDecoder() && dev.whet.data.Task.parse(task).embeds();
  }

  /**
   * Why this job cannot be split over data-parallel ranks (or servers), or null when it can:
   * embedding tasks learn from in-batch negatives, which splitting a batch changes, and SetFit
   * trains in its own loop.
   */
  public String whyNotDataParallel() {
    if (trainsEmbeddings()) {
      return "embed and similarity learn from in-batch negatives, which splitting a batch changes";
    }
    return method.equals("setfit") ? "setfit trains in its own loop" : null;
  }

  /** What the training loop reads: this job, resolved, as a typed record. */
  public TrainingPlan plan() {
    return TrainingPlan.of(this);
  }

  public double lrValue() {
    return Double.parseDouble(lr);
  }

  /** The intra-op threads this job runs on: {@link #threads}, or the engine's default for 0. */
  public int threadCount() {
    return threads > 0 ? threads : dev.whet.engine.Engine.defaultThreads();
  }

  public double epochsValue() {
    return Double.parseDouble(epochs);
  }

  /**
   * Replaces every {@code auto} with the value chosen for this data.
   *
   * @param autoPrecision chooses the precision when it is {@code auto}, given the job resolved so
   *     far (method, adapters, threads); see {@link PrecisionChoice}
   */
  public JobConfig resolve(
      int trainExamples, java.util.function.Function<JobConfig, String> autoPrecision) {
    JobConfig r = copy();
    r.method = r.effectiveMethod();
    if (r.metric.equals("auto")) {
      r.metric =
          switch (r.task) {
            case "sft", "dpo" -> "loss";
            case "tokens" -> "entity_f1";
            case "similarity" -> "spearman";
            case "embed" -> "mrr";
            default -> "f1_macro";
          };
    }
    if (r.epochs.equals("auto")) {
      // Supervised fine-tuning overfits quickly: a few passes, whatever the size.
      r.epochs =
          Integer.toString(
              r.trainsDecoder()
                  ? 3
                  : r.method.equals("setfit") ? 1 : autoEpochs(trainExamples)); // SetFit: 1 pass
    }
    if (r.lr.equals("auto")) {
      r.lr = Double.toString(r.autoLr());
    }
    if (r.precision.equals("auto")) {
      r.precision = autoPrecision.apply(r);
    }
    return r;
  }
}
