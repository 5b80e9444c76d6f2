package dev.whet.cli;

import dev.whet.model.TinyBert;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The small real training run the crash, resume and launch tests share: a tiny BERT (seed 9) on 200
 * SST-2 sentences, batch 8 — 25 steps an epoch, 75 in all, a checkpoint every 5, all kept.
 */
record TinyTrainRun(Path base, Path train) {
  static TinyTrainRun create(Path dir) throws Exception {
    Path base = TinyBert.create(dir.resolve("tiny"), 9);
    try (InputStream in = TinyBert.class.getResourceAsStream("/data/sst2/dev-200.jsonl")) {
      Path train =
          Files.write(
              dir.resolve("train.jsonl"),
              new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList());
      return new TinyTrainRun(base, train);
    }
  }

  /** `whet train` of this run into {@code out}, then {@code output} (--json or --quiet). */
  List<String> args(Path out, String output) {
    return List.of(
        "train",
        "--base",
        base.toString(),
        "--train",
        train.toString(),
        "--out",
        out.toString(),
        "--epochs",
        "3",
        "--batch-size",
        "8",
        "--max-length",
        "32",
        "--lr",
        "1e-3",
        "--seed",
        "4",
        "--set",
        "save_every=5",
        "--set",
        "keep_checkpoints=100",
        output);
  }
}
