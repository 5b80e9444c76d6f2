package dev.whet.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.WhetException;
import dev.whet.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;

/**
 * Turns hidden states into one vector per text: the first token ({@code [CLS]}) or the mean over
 * real tokens, optionally L2-normalised. Read from the sentence-transformers files a model
 * directory carries ({@code 1_Pooling/config.json}, a {@code Normalize} entry in {@code
 * modules.json}).
 */
public record Pooling(Mode mode, boolean normalize) {
  public enum Mode {
    CLS,
    MEAN
  }

  /** Mean pooling without normalisation: what a directory without pooling files gets. */
  public static final Pooling DEFAULT = new Pooling(Mode.MEAN, false);

  /**
   * @param hidden (B, T, H)
   * @param mask (B, T) 1 for real tokens
   * @return (B, H)
   */
  public Tensor apply(Tensor hidden, Tensor mask) {
    Tensor pooled;
    if (mode == Mode.CLS) {
      pooled = hidden.select(1, 0); // (B, H)
    } else {
      Tensor m = mask.unsqueeze(2).to(hidden.scalar_type()); // (B, T, 1)
      Tensor sum = hidden.mul(m).sum(new long[] {1}, false, new ScalarTypeOptional()); // (B, H)
      Tensor count =
          m.sum(new long[] {1}, false, new ScalarTypeOptional())
              .clamp_min(new Scalar(1e-9)); // (B, 1)
      pooled = sum.div(count);
    }
    if (normalize) {
      Tensor norm =
          pooled
              .norm(new org.bytedeco.pytorch.ScalarOptional(new Scalar(2.0)), new long[] {1}, true)
              .clamp_min(new Scalar(1e-12)); // (B, 1)
      pooled = pooled.div(norm);
    }
    return pooled;
  }

  /** Reads the pooling a model directory declares, or {@link #DEFAULT}. */
  public static Pooling read(Path modelDir) {
    Path poolingConfig = modelDir.resolve("1_Pooling/config.json");
    if (!Files.isRegularFile(poolingConfig)) {
      return DEFAULT;
    }
    ObjectMapper json = Json.MAPPER;
    try {
      JsonNode p = json.readTree(poolingConfig.toFile());
      Mode mode;
      if (p.path("pooling_mode_cls_token").asBoolean(false)) {
        mode = Mode.CLS;
      } else if (p.path("pooling_mode_mean_tokens").asBoolean(false)) {
        mode = Mode.MEAN;
      } else {
        throw new WhetException(
            poolingConfig
                + ": only pooling_mode_cls_token and pooling_mode_mean_tokens are supported");
      }
      boolean normalize = false;
      Path modules = modelDir.resolve("modules.json");
      if (Files.isRegularFile(modules)) {
        for (JsonNode m : json.readTree(modules.toFile())) {
          normalize |= m.path("type").asText("").endsWith(".Normalize");
        }
      }
      return new Pooling(mode, normalize);
    } catch (IOException e) {
      throw new WhetException(poolingConfig + ": not valid JSON (" + e.getMessage() + ")", e);
    }
  }
}
