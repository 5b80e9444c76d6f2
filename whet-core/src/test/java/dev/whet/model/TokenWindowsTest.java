package dev.whet.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whet.data.Words;
import dev.whet.io.Tokenizer;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Words to sub-tokens and windows, with the real all-MiniLM-L6-v2 (BERT WordPiece) tokenizer. */
class TokenWindowsTest {
  @TempDir static Path dir;
  static Tokenizer tok;

  @BeforeAll
  static void load() throws Exception {
    try (InputStream in =
        TokenWindowsTest.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
      Files.copy(in, dir.resolve("tokenizer.json"));
    }
    tok = Tokenizer.load(dir.resolve("tokenizer.json"), 16);
  }

  @AfterAll
  static void close() {
    tok.close();
  }

  private static List<String> tokens(long[] ids, Tokenizer t) {
    List<String> out = new ArrayList<>();
    for (long id : ids) out.add(t.decode(new long[] {id}, false));
    return out;
  }

  @Test
  void eachWordStartsAtItsFirstSubToken() {
    // "tokenization" is several word pieces, "😀" an unknown token, "wörld" is lower-cased and
    // stripped of its accent: offsets must still land on the words of the original text.
    Words.Joined j = Words.join(List.of("Héllo", "😀", "wörld", "tokenization", "iPhone-12", "."));
    Tokenizer.WordTokens w = tok.wordTokens(j.text(), j.spans());
    List<String> pieces = tokens(w.ids(), tok);
    assertEquals("hello", pieces.get(w.firstToken()[0]));
    assertEquals("[UNK]", pieces.get(w.firstToken()[1]));
    assertEquals("world", pieces.get(w.firstToken()[2]));
    assertEquals("token", pieces.get(w.firstToken()[3]));
    assertEquals("iphone", pieces.get(w.firstToken()[4]));
    assertEquals(".", pieces.get(w.firstToken()[5]));
    // Later pieces of a word belong to it: "iPhone-12" is iphone, -, 12.
    int i = w.firstToken()[4];
    assertArrayEquals(
        new int[] {4, 4, 4},
        new int[] {w.wordOfToken()[i], w.wordOfToken()[i + 1], w.wordOfToken()[i + 2]});
    assertEquals(5, w.wordOfToken()[w.ids().length - 1]);
  }

  @Test
  void rawTextSplitsPunctuationButKeepsHandlesAndInnerMarks() {
    String text = "@paul said O'Neil's iPhone-12 is in Paris, U.S. #wow";
    List<String> words = new ArrayList<>();
    for (int[] s : Words.split(text)) words.add(text.substring(s[0], s[1]));
    assertEquals(
        List.of(
            "@paul", "said", "O'Neil's", "iPhone-12", "is", "in", "Paris", ",", "U.S", ".", "#wow"),
        words);
  }

  @Test
  void longTextsAreWindowedAndEveryWordBelongsToOneWindow() {
    List<String> words = new ArrayList<>();
    for (int i = 0; i < 40; i++) words.add(i % 3 == 0 ? "tokenization" : "cat");
    Words.Joined j = Words.join(words);
    Tokenizer.WordTokens w = tok.wordTokens(j.text(), j.spans());
    List<TokenWindows.Window> windows = TokenWindows.of(w, tok.specialTokens(), 16);
    assertTrue(windows.size() > 1, "a text longer than a window is split");
    int[] owners = new int[words.size()];
    for (TokenWindows.Window win : windows) {
      assertTrue(win.ids().length <= 16, "a window fits max_length");
      assertEquals("[CLS]", tok.decode(new long[] {win.ids()[0]}, false));
      assertEquals("[SEP]", tok.decode(new long[] {win.ids()[win.ids().length - 1]}, false));
      for (int p = 0; p < win.word().length; p++) {
        if (win.word()[p] >= 0) {
          owners[win.word()[p]]++;
          // The position holds the word's first sub-token.
          assertEquals(w.ids()[w.firstToken()[win.word()[p]]], win.ids()[p]);
        }
      }
    }
    for (int i = 0; i < owners.length; i++) {
      assertEquals(1, owners[i], "word " + i + " is tagged in exactly one window");
    }
  }

  @Test
  void aShortTextIsOneWindowWithItsSpecialTokens() {
    Words.Joined j = Words.join(List.of("Paris", "is", "nice"));
    Tokenizer.WordTokens w = tok.wordTokens(j.text(), j.spans());
    List<TokenWindows.Window> windows = TokenWindows.of(w, tok.specialTokens(), 16);
    assertEquals(1, windows.size());
    assertArrayEquals(tok.encode(j.text()), windows.get(0).ids());
    assertArrayEquals(new int[] {-1, 0, 1, 2, -1}, windows.get(0).word());
  }
}
