package dev.whet.data;

import java.util.List;

/**
 * Token classification (NER and the like): one BIO/IOB2 tag per token.
 *
 * @param tokens words of the sentence
 * @param tags one tag per token ({@code O}, {@code B-TYPE}, {@code I-TYPE})
 * @param line source line of the first token
 */
public record TokenExample(List<String> tokens, List<String> tags, int line) implements Example {
  public TokenExample {
    tokens = List.copyOf(tokens);
    tags = List.copyOf(tags);
  }

  @Override
  public String input() {
    return String.join(" ", tokens);
  }

  @Override
  public String label() {
    return String.join(" ", tags);
  }

  @Override
  public List<String> labels() {
    return tags;
  }

  @Override
  public List<String> texts() {
    return List.of(input());
  }
}
