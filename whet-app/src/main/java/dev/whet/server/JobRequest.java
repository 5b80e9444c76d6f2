package dev.whet.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.WhetException;
import dev.whet.train.JobConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@code POST /v1/fine_tuning/jobs} body, checked, and its mapping onto a {@link JobConfig} — the
 * same job schema {@code whet train} reads, so the service trains exactly like the CLI.
 *
 * <ul>
 *   <li>{@code n_epochs} → {@code epochs}; {@code batch_size} → {@code batch_size}; {@code seed} →
 *       {@code seed}; {@code "auto"} keeps Whet's choice.
 *   <li>{@code learning_rate_multiplier} m → {@code lr = m × } the method's auto learning rate
 *       (5e-5 full, 1e-4 freeze, 5e-4 LoRA, the default for sft); {@code "auto"} is m = 1.
 *   <li>The task is the training file's: {@code sft} for prompt/completion, chat and instruction
 *       records, {@code dpo} for preference pairs. {@code method: {type: "dpo", dpo:
 *       {hyperparameters: {beta, …}}}} asks for DPO as OpenAI's API does ({@code beta} → {@code
 *       dpo.beta}); it needs a file of preference pairs, which trains no other way.
 *   <li>{@code whet}: any other job key (snake_case, as in job.yaml), nested sections as objects,
 *       e.g. {@code {"task": "multilabel", "method": "lora", "lora": {"rank": 16}}}.
 * </ul>
 *
 * @param nEpochs {@code "auto"} or a positive number
 * @param batchSize null for auto
 * @param lrMultiplier null for auto
 * @param seed null for the job default
 * @param methodType {@code supervised} or {@code dpo} as the request's {@code method.type} says, or
 *     null when it does not
 * @param beta DPO's β, null for auto
 * @param workers how many servers train the job together ({@code whet.workers}; null: one)
 * @param whet the Whet options as {@code key=value} overrides
 */
record JobRequest(
    String model,
    String trainingFile,
    String validationFile,
    String nEpochs,
    Integer batchSize,
    Double lrMultiplier,
    String suffix,
    Long seed,
    Map<String, String> metadata,
    String methodType,
    Double beta,
    Integer workers,
    List<String> whet) {

  /** Job keys the OpenAI fields (or the server) set; not accepted under {@code whet}. */
  static final Set<String> RESERVED =
      Set.of("base", "train", "val", "test", "out", "epochs", "batch_size", "seed");

  static final long DEFAULT_SEED = new JobConfig().seed;

  /** Data-check tasks of supervised fine-tuning records; a job on such a file is an sft job. */

  /**
   * The job task a training file implies: {@code sft} for prompt/completion, chat and instruction
   * records, else the file's own task (classify, multilabel, pair).
   */
  static String jobTask(String fileTask) {
    return fileTask == null ? null : dev.whet.data.Task.parse(fileTask).jobTask();
  }

  /** Checks a request body; every problem is a 400 naming the parameter. */
  static JobRequest of(ObjectNode body) {
    String model = Requests.requiredString(body, "model", "model");
    String training = Requests.requiredString(body, "training_file", "training_file");
    String validation = Requests.optionalString(body, "validation_file", "validation_file");
    ObjectNode hp = Requests.optionalObject(body, "hyperparameters", "hyperparameters");
    ObjectNode method = Requests.optionalObject(body, "method", "method");
    String hpParam = "hyperparameters";
    String type = null;
    if (method != null) {
      type = Requests.optionalString(method, "type", "method.type");
      if (type != null && !List.of("supervised", "dpo").contains(type)) {
        throw ApiError.invalid(
            "method.type '"
                + type
                + "' is not supported: Whet trains with 'supervised' or 'dpo' (preference pairs).",
            "method.type");
      }
      String section = type == null ? "supervised" : type;
      ObjectNode settings = Requests.optionalObject(method, section, "method." + section);
      ObjectNode mhp =
          settings == null
              ? null
              : Requests.optionalObject(
                  settings, "hyperparameters", "method." + section + ".hyperparameters");
      if (mhp != null) {
        if (hp != null) {
          throw ApiError.invalid(
              "Give hyperparameters either at the top level or under method."
                  + section
                  + ".hyperparameters, not both.",
              "hyperparameters");
        }
        hp = mhp;
        hpParam = "method." + section + ".hyperparameters";
      }
    }
    hp = hp == null ? Http.JSON.createObjectNode() : hp;
    for (Iterator<String> it = hp.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      boolean dpo = "dpo".equals(type);
      if (!List.of("n_epochs", "batch_size", "learning_rate_multiplier").contains(k)
          && !(dpo && k.equals("beta"))) {
        throw ApiError.invalid(
            "Unknown hyperparameter '"
                + k
                + "': use n_epochs, batch_size, learning_rate_multiplier"
                + (dpo ? ", beta" : "")
                + " (Whet's own options go under 'whet').",
            hpParam + "." + k);
      }
    }
    Double epochs = autoOrNumber(hp, "n_epochs", hpParam + ".n_epochs", false);
    Double batch = autoOrNumber(hp, "batch_size", hpParam + ".batch_size", true);
    Double lrm =
        autoOrNumber(hp, "learning_rate_multiplier", hpParam + ".learning_rate_multiplier", false);
    Double beta = autoOrNumber(hp, "beta", hpParam + ".beta", false);
    String suffix = Requests.optionalString(body, "suffix", "suffix");
    if (suffix != null && !suffix.matches("[A-Za-z0-9._-]{1,64}")) {
      throw ApiError.invalid(
          "'suffix' must be 1 to 64 letters, digits, '.', '_' or '-'.", "suffix");
    }
    Long seed = null;
    JsonNode s = body.get("seed");
    if (s != null && !s.isNull()) {
      if (!s.canConvertToLong() || !s.isIntegralNumber()) {
        throw ApiError.invalid("Invalid type for 'seed': expected an integer.", "seed");
      }
      seed = s.asLong();
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    ObjectNode md = Requests.optionalObject(body, "metadata", "metadata");
    if (md != null) {
      if (md.size() > 16) {
        throw ApiError.invalid("'metadata' holds at most 16 keys.", "metadata");
      }
      for (Iterator<String> it = md.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        String v = Requests.optionalString(md, k, "metadata." + k);
        if (k.length() > 64 || (v != null && v.length() > 512)) {
          throw ApiError.invalid(
              "metadata keys are at most 64 characters, values at most 512.", "metadata." + k);
        }
        metadata.put(k, v);
      }
    }
    List<String> whet = new ArrayList<>();
    ObjectNode w = Requests.optionalObject(body, "whet", "whet");
    Integer workers = null;
    if (w != null) {
      w = w.deepCopy();
      JsonNode n = w.remove("workers"); // the service's, not the job's: who trains it
      if (n != null && !n.isNull()) {
        if (!n.isIntegralNumber() || n.asInt() < 1 || n.asInt() > 64) {
          throw ApiError.invalid(
              "Invalid value for 'whet.workers': expected a whole number from 1 to 64, got "
                  + n
                  + ".",
              "whet.workers");
        }
        workers = n.asInt();
      }
      flatten("", w, whet);
    }
    return new JobRequest(
        model,
        training,
        validation,
        epochs == null ? "auto" : number(epochs),
        batch == null ? null : batch.intValue(),
        lrm,
        suffix,
        seed,
        metadata,
        type,
        beta,
        workers,
        whet);
  }

  /** How many servers train the job together (1 unless {@code whet.workers} says more). */
  int workerCount() {
    return workers == null ? 1 : workers;
  }

  /** {@code "auto"} → null, a positive number → it; anything else 400. */
  private static Double autoOrNumber(ObjectNode hp, String field, String param, boolean integer) {
    JsonNode n = hp.get(field);
    if (n == null || n.isNull() || (n.isTextual() && n.asText().equals("auto"))) {
      return null;
    }
    if (!n.isNumber() || !(n.asDouble() > 0) || (integer && !n.isIntegralNumber())) {
      throw ApiError.invalid(
          "Invalid value for '"
              + param
              + "': expected \"auto\" or a positive "
              + (integer ? "integer" : "number")
              + ", got "
              + n
              + ".",
          param);
    }
    return n.asDouble();
  }

  private static void flatten(String prefix, ObjectNode node, List<String> out) {
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = prefix + e.getKey();
      if (prefix.isEmpty() && RESERVED.contains(key)) {
        throw ApiError.invalid(
            "whet."
                + key
                + " is set by the request itself (model, training_file, validation_file,"
                + " hyperparameters, seed).",
            "whet." + key);
      }
      if (e.getValue() instanceof ObjectNode child) {
        flatten(key + ".", child, out);
      } else {
        out.add(key + "=" + e.getValue());
      }
    }
  }

  private static String number(double x) {
    return x == Math.rint(x) ? Long.toString((long) x) : Double.toString(x);
  }

  /**
   * The job for this request.
   *
   * @param fileTask the training file's task as the data check found it (the default task)
   * @param threads libtorch threads unless the request sets {@code whet.threads}
   * @param continued the model directory of the fine-tuned model the request continues (its {@code
   *     model} is an {@code ft:} id), or null when it starts from a base model
   */
  JobConfig toConfig(
      Path train, Path val, String fileTask, Path runDir, int threads, Path continued) {
    JobConfig c = new JobConfig();
    // A fine-tuned decoder is an adapter directory; training merges it into its base.
    c.base = continued != null ? continued.toAbsolutePath().toString() : model;
    c.train = train.toString();
    c.val = val == null ? null : val.toString();
    c.out = runDir.toString();
    c.task = jobTask(fileTask);
    c.threads = threads;
    // No validation file: hold a tenth out so that the job's model is measured (whet.holdout: 0
    // trains on everything, unmeasured).
    c.holdout = val == null ? 0.1 : 0;
    try {
      c = c.with(whet);
    } catch (WhetException e) {
      throw ApiError.invalid(e.getMessage().replace("override '", "whet option '"), "whet");
    }
    if (methodType != null && methodType.equals("dpo") != c.tunesPreferences()) {
      throw ApiError.invalid(
          methodType.equals("dpo")
              ? "method 'dpo' trains on preference pairs ({prompt, chosen, rejected} or"
                  + " {input, preferred_output, non_preferred_output}); "
                  + trainingFile
                  + " holds "
                  + fileTask
                  + " examples."
              : trainingFile
                  + " holds preference pairs, which train with method 'dpo', not '"
                  + methodType
                  + "'.",
          "training_file",
          "invalid_file");
    }
    if (beta != null) {
      c.dpo.beta = beta;
    }
    c.epochs = nEpochs;
    if (batchSize != null) {
      c.batchSize = batchSize;
    }
    if (seed != null) {
      c.seed = seed;
    }
    if (lrMultiplier != null) {
      if (whet.stream().anyMatch(o -> o.startsWith("lr="))) {
        throw ApiError.invalid(
            "Give either learning_rate_multiplier or whet.lr, not both.",
            "learning_rate_multiplier");
      }
      c.lr = Double.toString(lrMultiplier * c.autoLr());
    }
    try {
      c.validate();
    } catch (WhetException e) {
      throw ApiError.invalid(e.getMessage(), "whet");
    }
    return c;
  }

  /** The request as stored with the job (and read back by the worker). */
  ObjectNode toJson() {
    return Http.JSON.valueToTree(this);
  }

  static JobRequest fromJson(String json) {
    try {
      return Http.JSON.readValue(json, JobRequest.class);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
