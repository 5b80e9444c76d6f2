package dev.whet.data;

import java.util.ArrayList;
import java.util.List;

/**
 * A preference pair for preference tuning (DPO): a prompt and two answers, the one preferred and
 * the one not. Read from {@code {prompt, chosen, rejected}} or from OpenAI's preference format
 * ({@code {input: {messages}, preferred_output: [assistant message], non_preferred_output: […]}}).
 *
 * @param prompt the conversation so far (a plain prompt is one user turn)
 * @param chosen the preferred answer
 * @param rejected the answer not preferred
 * @param line source line
 */
public record PreferenceExample(
    List<ChatExample.Message> prompt, String chosen, String rejected, int line) implements Example {
  @Override
  public String input() {
    StringBuilder b = new StringBuilder();
    for (ChatExample.Message m : prompt) b.append(m.role()).append('\u0001').append(m.content());
    return b.toString();
  }

  @Override
  public List<String> texts() {
    List<String> out = new ArrayList<>();
    prompt.forEach(m -> out.add(m.content()));
    out.add(chosen);
    out.add(rejected);
    return out;
  }
}
