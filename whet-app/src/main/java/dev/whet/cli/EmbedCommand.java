package dev.whet.cli;

import dev.whet.io.Json;
import dev.whet.model.Encoder;
import dev.whet.train.PrecisionChoice;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code whet embed}: sentence embeddings from a base model. */
@Command(
    name = "embed",
    description = "Print sentence embeddings of texts from a base model.",
    mixinStandardHelpOptions = true)
final class EmbedCommand implements Callable<Integer> {
  @Mixin BaseModelOption base;

  @Option(names = "--json", description = "Print one JSON object with the full vectors.")
  boolean json;

  @Option(
      names = "--max-length",
      paramLabel = "N",
      description = "Truncate texts to N tokens (default: the model's maximum).")
  int maxLength;

  @Option(
      names = "--precision",
      paramLabel = "P",
      defaultValue = "auto",
      description =
          "auto (bf16 where it measured clearly faster on this machine, once, cached), fp32 or"
              + " bf16 (default: ${DEFAULT-VALUE}).")
  String precision;

  @Parameters(arity = "1..*", paramLabel = "TEXT", description = "Texts to embed.")
  List<String> texts;

  @Override
  public Integer call() {
    Path dir = base.resolve();
    boolean bf16 = PrecisionChoice.forInference(precision, dir).equals("bf16");
    try (Encoder encoder = Encoder.load(dir, maxLength, bf16)) {
      float[][] vectors = encoder.embed(texts);
      List<Integer> tokens = new ArrayList<>();
      for (String t : texts) {
        tokens.add(encoder.tokenizer().encode(t).length);
      }
      if (json) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", base.base);
        out.put("dimensions", vectors.length == 0 ? 0 : vectors[0].length);
        out.put("precision", encoder.precision());
        out.put("embeddings", vectors);
        out.put("tokens", tokens);
        System.out.println(Json.line(out));
        return 0;
      }
      System.out.printf(
          "%s: %d dimensions, %s pooling%s, %s%n",
          base.base,
          vectors[0].length,
          encoder.pooling().mode().name().toLowerCase(Locale.ROOT),
          encoder.pooling().normalize() ? ", normalised" : "",
          encoder.precision());
      for (int i = 0; i < texts.size(); i++) {
        StringBuilder head = new StringBuilder();
        for (int j = 0; j < Math.min(5, vectors[i].length); j++) {
          head.append(String.format(Locale.ROOT, "%+.4f ", vectors[i][j]));
        }
        System.out.printf(
            Locale.ROOT,
            "%n%s%n  tokens %d  norm %.4f  [%s...]%n",
            texts.get(i),
            tokens.get(i),
            norm(vectors[i]),
            head);
      }
      return 0;
    }
  }

  private static double norm(float[] v) {
    double s = 0;
    for (float x : v) {
      s += x * x;
    }
    return Math.sqrt(s);
  }
}
