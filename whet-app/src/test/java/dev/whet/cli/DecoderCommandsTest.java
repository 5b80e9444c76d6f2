package dev.whet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The scripts' contract of {@code whet generate} and {@code whet models import}, and chat. */
@Tag("engine")
class DecoderCommandsTest {
  static final Path MODELS = Path.of("../whet-core/src/test/resources/models");
  @TempDir Path home;
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  @BeforeEach
  void isolate() {
    System.setProperty("whet.home", home.toString());
  }

  @AfterEach
  void restore() {
    System.clearProperty("whet.home");
  }

  private int run(String... args) {
    Cli.Result r = Cli.run(args);
    out.write(r.out());
    err.write(r.err());
    return r.exit();
  }

  @Test
  void importPrintsTheDirectoryLastAndGenerateprintsOnlyTheText() {
    assertEquals(
        0,
        run(
            "models",
            "import",
            MODELS.resolve("gguf/stories260K.gguf").toString(),
            "--name",
            "s260k"));
    String[] lines = out.toString().split("\n");
    Path dir = Path.of(lines[lines.length - 1]);
    assertEquals(home.resolve("models/s260k"), dir);
    assertTrue(Files.isRegularFile(dir.resolve("model.safetensors")));

    out.getBuffer().setLength(0);
    assertEquals(0, run("generate", "s260k", "--bos", "--max-tokens", "30", "--temperature", "0"));
    assertTrue(
        out.toString().startsWith("Once upon a time, there was a little girl named Lily."),
        out.toString());
    assertTrue(!out.toString().contains("whet:"), out.toString());

    out.getBuffer().setLength(0);
    assertEquals(
        0,
        run(
            "generate",
            "s260k",
            "--prompt",
            "Once upon a time",
            "--max-tokens",
            "12",
            "--stop",
            "girl"));
    assertEquals(", there was a little ", out.toString());
  }

  @Test
  void chatStreamsRepliesUsingTheTemplate(@TempDir Path model) throws Exception {
    Path stories = MODELS.resolve("TinyStories-656K-hf");
    for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) {
      Files.copy(stories.resolve(f), model.resolve(f));
    }
    // TinyStories has no chat template; a minimal one: the story so far, user turns verbatim.
    Files.writeString(
        model.resolve("tokenizer_config.json"),
        "{\"eos_token\": \"<|end_story|>\", \"chat_template\": \"<|start_story|>{% for m in"
            + " messages %}{{ m['content'] }}{% endfor %}\"}");
    InputStream saved = System.in;
    System.setIn(
        new ByteArrayInputStream("Once upon a time\n/exit\n".getBytes(StandardCharsets.UTF_8)));
    try {
      assertEquals(0, run("chat", model.toString(), "--max-tokens", "8"));
    } finally {
      System.setIn(saved);
    }
    // The prompt, the streamed reply (8 tokens of story), a new prompt, then /exit.
    String printed = out.toString();
    assertTrue(printed.startsWith("> , a little girl"), printed);
    assertTrue(printed.endsWith("\n> "), printed);
  }

  @Test
  void trainSftThenGenerateFromTheRunAndExportItMerged(@TempDir Path runs) throws Exception {
    Path data = Path.of("../whet-core/src/test/resources/data/sft");
    Path run = runs.resolve("run");
    assertEquals(
        0,
        run(
            "train",
            "--task",
            "sft",
            "--base",
            MODELS.resolve("TinyStories-656K-hf").toString(),
            "--train",
            data.resolve("style_train.jsonl").toString(),
            "--val",
            data.resolve("style_val.jsonl").toString(),
            "--out",
            run.toString(),
            "--epochs",
            "1",
            "--lr",
            "5e-3",
            "--batch-size",
            "8",
            "--max-length",
            "64",
            "--generate-eval",
            "2",
            "--json"),
        err.toString());
    String[] lines = out.toString().strip().split("\n");
    var result =
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(lines[lines.length - 1]);
    assertEquals(run.toString(), result.get("run_dir").asText());
    assertTrue(result.has("model_dir") && result.has("best_metric"), result.toString());
    assertTrue(result.has("train_seconds"), result.toString());
    assertTrue(Files.isRegularFile(run.resolve("eval/eval.json")));
    assertTrue(Files.isRegularFile(run.resolve("model/adapter_model.safetensors")));

    // `whet eval` on the run scores another held-out file against the base and, with
    // --baselines, against prompting it: zero-shot with a system prompt, few-shot, RAG.
    out.getBuffer().setLength(0);
    Path systemPrompt = Files.writeString(runs.resolve("system.txt"), "Answer in the house style.");
    assertEquals(
        0,
        run(
            "eval",
            run.toString(),
            "--data",
            data.resolve("style_val.jsonl").toString(),
            "--baselines",
            "--system-prompt",
            "@" + systemPrompt,
            "--shots",
            "2",
            "--documents",
            data.resolve("style_docs.jsonl").toString(),
            "--generate",
            "2",
            "--json"),
        err.toString());
    String[] evalLines = out.toString().strip().split("\n");
    var eval =
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(evalLines[evalLines.length - 1]);
    assertEquals("sft", eval.get("task").asText());
    assertTrue(eval.get("held_out").get("loss_after").isNumber(), eval.toString());
    List<String> names = new java.util.ArrayList<>();
    for (var sys : eval.get("systems")) {
      names.add(sys.get("name").asText());
      for (String k :
          List.of(
              "loglik",
              "perplexity",
              "exact_match",
              "rouge_l",
              "prompt_tokens",
              "ms_per_request")) {
        assertTrue(sys.get(k).isNumber(), k + " of " + sys);
      }
    }
    assertEquals(
        List.of("zero_shot", "few_shot_random", "few_shot_retrieved", "rag", "fine_tuned"), names);
    assertTrue(
        eval.get("verdict").asText().contains("Fine-tuned model"), eval.get("verdict").asText());
    assertTrue(eval.get("systems").get(0).get("description").asText().contains("system prompt"));
    assertTrue(
        eval.get("systems").get(3).get("prompt_tokens").asDouble()
            > eval.get("systems").get(0).get("prompt_tokens").asDouble(),
        "the documents lengthen RAG's prompts");
    assertTrue(
        eval.get("held_out").get("loss_after").asDouble()
            < eval.get("held_out").get("loss_before").asDouble(),
        "the fine-tune fits its held-out style better than the base: " + eval.get("held_out"));

    out.getBuffer().setLength(0);
    assertEquals(
        0,
        run(
            "generate",
            run.toString(),
            "--prompt",
            "Tom saw a horse in the park.",
            "--max-tokens",
            "8",
            "--temperature",
            "0"));
    String generated = out.toString();
    assertFalse(generated.isBlank());
    assertFalse(generated.contains("whet:"), generated);

    out.getBuffer().setLength(0);
    Path merged = runs.resolve("merged");
    assertEquals(0, run("export", run.toString(), "--merged", "--out", merged.toString()));
    String[] printed = out.toString().strip().split("\n");
    assertEquals(merged.toString(), printed[printed.length - 1]);
    out.getBuffer().setLength(0);
    assertEquals(
        0,
        run(
            "generate",
            merged.toString(),
            "--prompt",
            "Tom saw a horse in the park.",
            "--max-tokens",
            "8",
            "--temperature",
            "0"));
    assertEquals(generated, out.toString(), "the merged model generates what the adapter does");

    // DPO from the SFT run: its adapter merged into the DPO run's base, then preference pairs.
    out.getBuffer().setLength(0);
    Path dpo = runs.resolve("dpo");
    assertEquals(
        0,
        run(
            "train",
            "--task",
            "dpo",
            "--base",
            run.toString(),
            "--train",
            data.resolve("prefs_train.jsonl").toString(),
            "--val",
            data.resolve("prefs_val.jsonl").toString(),
            "--out",
            dpo.toString(),
            "--epochs",
            "2",
            "--lr",
            "5e-3",
            "--batch-size",
            "8",
            "--max-length",
            "64",
            "--generate-eval",
            "0",
            "--set",
            "dpo.beta=0.2",
            "--json"),
        err.toString());
    String[] dpoLines = out.toString().strip().split("\n");
    var dpoResult =
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(dpoLines[dpoLines.length - 1]);
    assertEquals(dpo.toString(), dpoResult.get("run_dir").asText());
    assertTrue(dpoResult.get("best_metric").isNumber(), dpoResult.toString());
    var firstStep = new com.fasterxml.jackson.databind.ObjectMapper().readTree(dpoLines[0]);
    assertTrue(
        Files.isRegularFile(dpo.resolve("base/model.safetensors")),
        "the SFT adapter merged into the DPO run's base");
    assertTrue(
        java.util.Arrays.stream(dpoLines).anyMatch(l -> l.contains("\"reward_accuracy\"")),
        "steps print their rewards: " + firstStep);
    out.getBuffer().setLength(0);
    assertEquals(
        0,
        run("eval", dpo.toString(), "--data", data.resolve("prefs_val.jsonl").toString(), "--json"),
        err.toString());
    String[] dpoEval = out.toString().strip().split("\n");
    var pref =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(dpoEval[dpoEval.length - 1])
            .get("preference");
    assertEquals(0.2, pref.get("beta").asDouble(), 1e-12);
    assertTrue(pref.get("reward_margin").asDouble() > 0, pref.toString());
  }
}
