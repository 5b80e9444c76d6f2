package dev.whet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.whet.io.ChatTemplate;
import dev.whet.io.ChatTemplate.Message;
import dev.whet.io.Tokenizer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class SftEncodingTest {
  static final Path SMOL = Path.of("src/test/resources/models/SmolLM2-135M-Instruct-tokenizer");
  static final Path STORIES = Path.of("src/test/resources/models/TinyStories-656K-hf");

  @Test
  void promptIsMaskedCompletionAndEosAreTrained() {
    try (Tokenizer tok = Tokenizer.load(STORIES.resolve("tokenizer.json"), 512)) {
      SftEncoding enc = new SftEncoding(tok, null, 2, false, 512);
      SftEncoding.Example e = enc.promptCompletion("Tom had a dog.", "The dog was big.");
      long[] prompt = tok.encode("Tom had a dog.");
      long[] completion = tok.encodeRaw("The dog was big.");
      assertEquals(prompt.length + completion.length + 1, e.length());
      for (int i = 0; i < prompt.length; i++) {
        assertEquals(SftEncoding.IGNORE, e.labels()[i]);
      }
      assertEquals(2, e.inputIds()[e.length() - 1]); // EOS appended...
      assertEquals(2, e.labels()[e.length() - 1]); // ...and trained
      assertEquals(completion.length + 1, e.trainedTokens());

      SftEncoding all = new SftEncoding(tok, null, 2, true, 512);
      assertEquals(
          e.length(), all.promptCompletion("Tom had a dog.", "The dog was big.").trainedTokens());
    }
  }

  @Test
  void chatTrainsAssistantTurnsWithTheirEndOfTurnEvenWhenPadEqualsEos() {
    try (Tokenizer tok = Tokenizer.load(SMOL.resolve("tokenizer.json"), 2048)) {
      long eos = tok.tokenId("<|im_end|>");
      SftEncoding enc = new SftEncoding(tok, ChatTemplate.load(SMOL), eos, false, 2048);
      List<Message> conversation =
          List.of(
              new Message("user", "Name a colour."),
              new Message("assistant", "Blue."),
              new Message("user", "Another?"),
              new Message("assistant", "Red."));
      SftEncoding.Example e = enc.chat(conversation);
      StringBuilder trained = new StringBuilder();
      int eosTrained = 0;
      for (int i = 0; i < e.length(); i++) {
        if (e.labels()[i] != SftEncoding.IGNORE) {
          trained.append(tok.decode(new long[] {e.inputIds()[i]}, false));
          eosTrained += e.labels()[i] == eos ? 1 : 0;
        }
      }
      assertEquals("Blue.<|im_end|>\nRed.<|im_end|>\n", trained.toString());
      assertEquals(2, eosTrained);

      // OpenAI's weight 0 on the first answer: the same tokens, only the second answer trained.
      SftEncoding.Example skipFirst =
          enc.chat(conversation, new boolean[] {false, false, false, true});
      assertArrayEquals(e.inputIds(), skipFirst.inputIds());
      StringBuilder second = new StringBuilder();
      for (int i = 0; i < skipFirst.length(); i++) {
        if (skipFirst.labels()[i] != SftEncoding.IGNORE) {
          second.append(tok.decode(new long[] {skipFirst.inputIds()[i]}, false));
        }
      }
      assertEquals("Red.<|im_end|>\n", second.toString());
      // SmolLM2 declares pad = <|im_end|> = EOS: padding never takes EOS's id here.
      long pad = SftEncoding.padId(tok, eos);
      assertNotEquals(eos, pad);
      SftEncoding.Batch b =
          SftEncoding.pad(
              List.of(
                  e,
                  enc.chat(List.of(new Message("user", "Hi"), new Message("assistant", "Hello")))),
              pad);
      assertEquals(e.length(), b.width());
      assertEquals(SftEncoding.IGNORE, b.labels()[2 * b.width() - 1]);
      assertEquals(0, b.attentionMask()[2 * b.width() - 1]);
    }
  }

  @Test
  void packingKeepsExamplesWholeAndNumbersThem() {
    SftEncoding.Example a = new SftEncoding.Example(new long[] {1, 2, 3}, new long[] {-100, 2, 3});
    SftEncoding.Example b = new SftEncoding.Example(new long[] {4, 5}, new long[] {4, 5});
    SftEncoding.Example c =
        new SftEncoding.Example(new long[] {6, 7, 8, 9}, new long[] {6, 7, 8, 9});
    SftEncoding.Packed p = SftEncoding.pack(List.of(a, b, c), 6, 0);
    assertEquals(2, p.rows());
    assertArrayEquals(new long[] {1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 0, 0}, p.inputIds());
    assertArrayEquals(new long[] {0, 0, 0, 1, 1, -1, 0, 0, 0, 0, -1, -1}, p.sequenceIds());
    assertEquals(SftEncoding.IGNORE, p.labels()[5]);
  }
}
