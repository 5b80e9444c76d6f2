package dev.whet.data;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Words of a text for token classification, as character spans into it: what a tag is given to and
 * what an entity's start and end count in. Files in CoNLL or {@code tokens} form bring their own
 * words ({@link #join}); raw text is split here ({@link #split}).
 */
public final class Words {
  private Words() {}

  /**
   * A run of letters, digits or underscores, joined across inner apostrophes, hyphens and dots
   * ("O'Neil", "iPhone-12", "U.S"), optionally after one @ or # (handles and hashtags, as tweets
   * write them); any other visible character is a word of its own, so "Paris," gives "Paris" and
   * ",".
   */
  private static final Pattern WORD =
      Pattern.compile("[@#]?[\\p{L}\\p{N}_]+(?:['’.\\-][\\p{L}\\p{N}_]+)*|\\S");

  /** The words of raw text, as {@code {start, end}} (end exclusive) in UTF-16 units. */
  public static List<int[]> split(String text) {
    List<int[]> out = new ArrayList<>();
    Matcher m = WORD.matcher(text);
    while (m.find()) {
      out.add(new int[] {m.start(), m.end()});
    }
    return out;
  }

  /**
   * Given words joined by single spaces.
   *
   * @param spans each word's {@code {start, end}} in {@code text}
   */
  public record Joined(String text, List<int[]> spans) {}

  public static Joined join(List<String> words) {
    StringBuilder text = new StringBuilder();
    List<int[]> spans = new ArrayList<>(words.size());
    for (String w : words) {
      if (!text.isEmpty()) {
        text.append(' ');
      }
      spans.add(new int[] {text.length(), text.length() + w.length()});
      text.append(w);
    }
    return new Joined(text.toString(), spans);
  }
}
