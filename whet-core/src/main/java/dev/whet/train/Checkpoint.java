package dev.whet.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.WhetException;
import dev.whet.engine.Tensors;
import dev.whet.io.DiskFiles;
import dev.whet.io.Safetensors;
import dev.whet.io.TensorData;
import dev.whet.model.Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Everything needed to continue a run exactly: weights by name, optimizer state, RNG state, data
 * position, step, best metric and early-stopping count. Written to a temp directory and renamed, so
 * a crash never leaves a half-written checkpoint.
 *
 * @param epoch the epoch the next batch comes from
 * @param batchInEpoch index of the next batch in that epoch's (seeded) order
 */
public record Checkpoint(
    long step,
    int epoch,
    int batchInEpoch,
    double bestMetric,
    long bestStep,
    int badEvals,
    long realTokens,
    double trainSeconds,
    byte[] rngState) {

  static final String WEIGHTS = "model.safetensors";
  static final String OPTIMIZER = "optimizer.safetensors";
  static final String STATE = "trainer_state.json";

  /**
   * Saves weights, optimizer and this state under {@code run}/checkpoint-{step}.
   *
   * @param weights the tensors to save by name: every parameter, or only the trained ones (LoRA
   *     runs keep the frozen base out of their checkpoints; it is reloaded from the base model)
   */
  Path save(RunDir run, Map<String, Tensor> weights, FusedAdamW optimizer) {
    Path dir = run.checkpoint(step);
    Path tmp = run.path().resolve(".tmp-checkpoint-" + step);
    try {
      DiskFiles.delete(tmp);
      Files.createDirectories(tmp);
      Map<String, TensorData> tensors = new LinkedHashMap<>();
      weights.forEach((name, t) -> tensors.put(name, Weights.toData(name, t)));
      Safetensors.write(tmp.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
      Safetensors.write(tmp.resolve(OPTIMIZER), optimizer.stateData(), Map.of("format", "pt"));
      Map<String, Object> state = new LinkedHashMap<>();
      state.put("global_step", step);
      state.put("epoch", epoch);
      state.put("batch_in_epoch", batchInEpoch);
      state.put("best_metric", Double.isNaN(bestMetric) ? null : bestMetric);
      state.put("best_step", bestStep);
      state.put("bad_evals", badEvals);
      state.put("real_tokens", realTokens);
      state.put("train_seconds", trainSeconds);
      state.put("rng_state", Base64.getEncoder().encodeToString(rngState));
      Files.writeString(tmp.resolve(STATE), RunDir.JSON.writeValueAsString(state));
      DiskFiles.delete(dir);
      Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
      return dir;
    } catch (IOException e) {
      throw new WhetException(dir + ": cannot write checkpoint (" + e.getMessage() + ")", e);
    }
  }

  /** Reads the state of a checkpoint directory (weights and optimizer are loaded separately). */
  static Checkpoint read(Path dir) {
    try {
      JsonNode s = RunDir.JSON.readTree(dir.resolve(STATE).toFile());
      return new Checkpoint(
          s.get("global_step").asLong(),
          s.get("epoch").asInt(),
          s.get("batch_in_epoch").asInt(),
          s.get("best_metric").isNull() ? Double.NaN : s.get("best_metric").asDouble(),
          s.get("best_step").asLong(),
          s.get("bad_evals").asInt(),
          s.get("real_tokens").asLong(),
          s.get("train_seconds").asDouble(),
          Base64.getDecoder().decode(s.get("rng_state").asText()));
    } catch (IOException | RuntimeException e) {
      throw new WhetException(dir.resolve(STATE) + ": unreadable checkpoint state (" + e + ")", e);
    }
  }

  /**
   * Copies a checkpoint's tensors into the module's parameters of the same names. A checkpoint of a
   * LoRA run holds only the trained tensors; the rest keep the base model's values.
   */
  static void loadWeights(Path dir, Module model) {
    Map<String, Tensor> params = Weights.parameters(model);
    try (org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
      for (TensorData d : Safetensors.read(dir.resolve(WEIGHTS)).values()) {
        Tensor p = params.get(d.name());
        if (p == null) {
          throw new WhetException(
              dir.resolve(WEIGHTS)
                  + ": tensor '"
                  + d.name()
                  + "' belongs to no parameter of this model (a checkpoint of another run?)");
        }
        p.copy_(Weights.toTensor(d));
      }
    }
  }

  static void loadOptimizer(Path dir, FusedAdamW optimizer) {
    Path file = dir.resolve(OPTIMIZER);
    optimizer.loadState(Safetensors.read(file), file.toString());
  }

  /** The default CPU generator's state (dropout masks come from it). */
  static byte[] rngNow() {
    Tensor s = torch.getDefaultCPUGenerator().get_state();
    long[] values = Tensors.toLongs(s);
    byte[] out = new byte[values.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) values[i];
    }
    return out;
  }

  void restoreRng() {
    long[] values = new long[rngState.length];
    for (int i = 0; i < values.length; i++) {
      values[i] = rngState[i] & 0xff;
    }
    Tensor s = Tensors.fromLongs(values, values.length).to(torch.ScalarType.Byte);
    torch.getDefaultCPUGenerator().set_state(s);
  }
}
