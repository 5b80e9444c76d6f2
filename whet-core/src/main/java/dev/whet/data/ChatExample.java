package dev.whet.data;

import java.util.ArrayList;
import java.util.List;

/**
 * An OpenAI-style conversation.
 *
 * @param messages turns in order
 * @param line source line
 */
public record ChatExample(List<ChatExample.Message> messages, int line) implements Example {
  /** Roles a message may have. */
  public static final List<String> ROLES = List.of("system", "user", "assistant");

  public ChatExample {
    messages = List.copyOf(messages);
  }

  /**
   * One turn.
   *
   * @param role {@code system}, {@code user} or {@code assistant}
   * @param content the text
   * @param weight 1 if the model learns from this (assistant) turn, 0 if not; always 0 for others
   */
  public record Message(String role, String content, int weight) {}

  /** Everything but the assistant turns: what the model is shown. */
  @Override
  public String input() {
    List<String> parts = new ArrayList<>();
    for (Message m : messages) {
      if (!m.role().equals("assistant")) {
        parts.add(m.role() + ": " + m.content());
      }
    }
    return String.join("\n", parts);
  }

  @Override
  public List<String> texts() {
    return messages.stream().map(Message::content).toList();
  }
}
