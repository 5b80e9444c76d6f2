package dev.whet.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.io.Atomic;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Users' judgements of served chat completions turned into preference pairs that train the model
 * further with DPO, in OpenAI's preference format ({@code {input: {messages}, preferred_output,
 * non_preferred_output}}, which {@code whet train --task dpo} reads):
 *
 * <ul>
 *   <li>a preferred alternative to a reply: the alternative is chosen, the reply rejected;
 *   <li>ratings: for the same conversation, every reply rated good against every reply rated bad.
 * </ul>
 *
 * Identical pairs and pairs whose two answers are the same are left out.
 */
public final class Feedback {
  private Feedback() {}

  /** The preference pairs the feedback gives, one JSON object each. */
  static List<ObjectNode> pairs(List<Store.Feedback> feedback) {
    Set<String> seen = new LinkedHashSet<>();
    List<ObjectNode> out = new ArrayList<>();
    Map<String, List<String>> good = new LinkedHashMap<>();
    Map<String, List<String>> bad = new LinkedHashMap<>();
    for (Store.Feedback f : feedback) {
      Store.Completion c = f.completion();
      if (f.preferred() != null) {
        add(out, seen, c.messages(), f.preferred(), c.reply());
      }
      if (f.rating() != null) {
        (f.rating() > 0 ? good : bad)
            .computeIfAbsent(c.messages(), k -> new ArrayList<>())
            .add(c.reply());
      }
    }
    good.forEach(
        (messages, liked) -> {
          for (String chosen : liked) {
            for (String rejected : bad.getOrDefault(messages, List.of())) {
              add(out, seen, messages, chosen, rejected);
            }
          }
        });
    return out;
  }

  private static void add(
      List<ObjectNode> out, Set<String> seen, String messages, String chosen, String rejected) {
    if (chosen.equals(rejected) || !seen.add(messages + "\u0000" + chosen + "\u0000" + rejected)) {
      return;
    }
    ObjectNode pair = Http.JSON.createObjectNode();
    pair.putObject("input").set("messages", Http.tree(messages));
    pair.set("preferred_output", assistant(chosen));
    pair.set("non_preferred_output", assistant(rejected));
    out.add(pair);
  }

  private static ArrayNode assistant(String content) {
    ArrayNode a = Http.JSON.createArrayNode();
    a.addObject().put("role", "assistant").put("content", content);
    return a;
  }

  /** The pairs as JSONL. */
  static String jsonl(List<ObjectNode> pairs) {
    StringBuilder b = new StringBuilder();
    pairs.forEach(p -> b.append(p).append('\n'));
    return b.toString();
  }

  /**
   * {@code whet feedback export}: writes the preference pairs from the feedback a project's users
   * gave on {@code model}'s chat completions to {@code out} (atomically).
   *
   * @param dbUrl the service database as {@code whet serve --db} takes it (null: SQLite in home)
   * @return the number of pairs written
   */
  public static int export(Path home, String dbUrl, String project, String model, Path out) {
    try (Store store = new Store(Db.open(dbUrl, home))) {
      List<ObjectNode> pairs = pairs(store.feedback(project, model));
      Atomic.writeString(out, jsonl(pairs));
      return pairs.size();
    }
  }

  /** The messages of a chat request as stored with its completion. */
  static String messagesJson(List<dev.whet.io.ChatTemplate.Message> messages) {
    ArrayNode a = Http.JSON.createArrayNode();
    messages.forEach(m -> a.addObject().put("role", m.role()).put("content", m.content()));
    return a.toString();
  }

  /** Reads a rating: {@code "good"} or 1, {@code "bad"} or -1. */
  static Integer rating(JsonNode n) {
    if (n == null || n.isNull()) {
      return null;
    }
    if (n.isTextual() && List.of("good", "bad").contains(n.asText())) {
      return n.asText().equals("good") ? 1 : -1;
    }
    if (n.isIntegralNumber() && Math.abs(n.asInt()) == 1) {
      return n.asInt();
    }
    throw ApiError.invalid(
        "Invalid 'rating': use \"good\" or \"bad\" (or 1 and -1), got " + n + ".", "rating");
  }
}
