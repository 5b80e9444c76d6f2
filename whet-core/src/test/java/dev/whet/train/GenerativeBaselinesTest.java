package dev.whet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whet.infer.LanguageModel;
import dev.whet.io.ChatTemplate.Message;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The prompts of the generative baselines, as the base model reads them. */
@Tag("engine")
class GenerativeBaselinesTest {
  static final SftData.Query DEMO_1 =
      new SftData.Query(
          List.of(new Message("user", "Sue saw a dog.")), "Sue saw a dog.", " Hi dog.");
  static final SftData.Query DEMO_2 =
      new SftData.Query(
          List.of(new Message("user", "Tom saw a cat.")), "Tom saw a cat.", " Hi cat.");
  static final SftData.Query QUESTION =
      new SftData.Query(
          List.of(new Message("system", "Be kind."), new Message("user", "Ann saw a cow.")),
          null,
          " Hi cow.");

  @Test
  void chatPromptsPutInstructionsInOneSystemTurnThenTheExamplesThenTheQuestion(@TempDir Path dir)
      throws Exception {
    Path model = SftTrainingTest.resource("/models/TinyStories-656K-hf");
    for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
      Files.copy(model.resolve(f), dir.resolve(f));
    }
    Files.writeString(
        dir.resolve("tokenizer_config.json"),
        "{\"eos_token\": \"<|end_story|>\", \"chat_template\": \"{% for m in messages %}[{{"
            + " m['role'] }}] {{ m['content'] }}\\n{% endfor %}[assistant]\"}");
    try (LanguageModel lm = LanguageModel.load(dir)) {
      long[] ids =
          GenerativeBaselines.prompt(
              lm, "Answer briefly.", List.of(DEMO_1, DEMO_2), List.of("Cows say moo."), QUESTION);
      String expected =
          lm.chatTemplate()
              .render(
                  List.of(
                      new Message(
                          "system",
                          "Answer briefly.\n\nBe kind.\n\nUse these documents where they"
                              + " help:\n[1] Cows say moo."),
                      new Message("user", "Sue saw a dog."),
                      new Message("assistant", " Hi dog."),
                      new Message("user", "Tom saw a cat."),
                      new Message("assistant", " Hi cat."),
                      new Message("user", "Ann saw a cow.")),
                  true);
      assertArrayEquals(lm.tokenizer().encodeRaw(expected), ids);
    }
  }

  @Test
  void plainPromptsJoinTheirPartsWithBlankLines() throws Exception {
    try (LanguageModel lm =
        LanguageModel.load(SftTrainingTest.resource("/models/TinyStories-656K-hf"))) {
      SftData.Query q = new SftData.Query(List.of(), "Ann saw a cow.", " Hi cow.");
      long[] ids = GenerativeBaselines.prompt(lm, null, List.of(DEMO_1, DEMO_2), List.of(), q);
      assertArrayEquals(
          lm.tokenizer()
              .encode("Sue saw a dog. Hi dog.\n\nTom saw a cat. Hi cat.\n\nAnn saw a cow."),
          ids);
    }
  }

  @Test
  void examplesThatDoNotFitAreDroppedFirstThenThePromptsStart() {
    // A prompt of 10 tokens per example kept plus 5 of its own.
    GenerativeBaselines.PromptFor p =
        new GenerativeBaselines.PromptFor(3, keep -> new long[10 * keep + 5]);
    assertEquals(35, GenerativeBaselines.fit(p, 40).length, "all three fit");
    assertEquals(25, GenerativeBaselines.fit(p, 30).length, "one dropped");
    assertEquals(5, GenerativeBaselines.fit(p, 9).length, "none kept");
    long[] own = {1, 2, 3, 4, 5};
    GenerativeBaselines.PromptFor alone = new GenerativeBaselines.PromptFor(0, keep -> own);
    assertArrayEquals(new long[] {3, 4, 5}, GenerativeBaselines.fit(alone, 3), "its end kept");
  }
}
