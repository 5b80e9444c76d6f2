package dev.whet.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.WhetException;
import dev.whet.io.ChatTemplate.Message;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChatTemplateTest {
  static final Path SMOL = Path.of("src/test/resources/models/SmolLM2-135M-Instruct-tokenizer");

  @Test
  void smolLm2ChatMlTemplateRendersWithDefaultSystemAndGenerationPrompt() {
    ChatTemplate t = ChatTemplate.load(SMOL);
    assertEquals("<|im_end|>", t.eosToken());
    String text = t.render(List.of(new Message("user", "Hi there")), true);
    assertEquals(
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging"
            + " Face<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
        text);
    String own =
        t.render(
            List.of(
                new Message("system", "Be brief."),
                new Message("user", "2+2?"),
                new Message("assistant", "4")),
            false);
    assertEquals(
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n"
            + "<|im_start|>assistant\n4<|im_end|>\n",
        own);
  }

  @Test
  void renderedTextTokenizesIntoTheRealSpecialTokens() {
    ChatTemplate t = ChatTemplate.load(SMOL);
    try (Tokenizer tok = Tokenizer.load(SMOL.resolve("tokenizer.json"), 2048)) {
      long[] ids = tok.encodeRaw(t.render(List.of(new Message("user", "Hi")), true));
      assertEquals(1, ids[0]); // <|im_start|>
      assertEquals(1, tok.tokenId("<|im_start|>"));
      assertEquals(2, tok.tokenId("<|im_end|>"));
      assertEquals(-1, tok.tokenId("not a single token"));
      String back = tok.decode(ids, false);
      assertTrue(back.endsWith("<|im_start|>assistant\n"), back);
    }
  }

  @Test
  void raiseExceptionInATemplateIsAnError() {
    ChatTemplate t =
        new ChatTemplate(
            "{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversations must start"
                + " with a user message') }}{% endif %}{{ bos_token }}{{ messages[0]['content'] }}",
            "<s>", "</s>", "test");
    assertEquals("<s>hello", t.render(List.of(new Message("user", "hello")), false));
    WhetException e =
        assertThrows(
            WhetException.class, () -> t.render(List.of(new Message("assistant", "x")), false));
    assertTrue(e.getMessage().contains("must start with a user message"), e.getMessage());
  }
}
