package dev.whet.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The entity baseline a practitioner tries first: a list of every entity seen in training, matched
 * in new text. Entities are token sequences compared case-insensitively; one seen under several
 * types takes its most frequent (the alphabetically first of equals). Tagging goes left to right,
 * taking at each token the longest known entity that starts there.
 */
public final class Gazetteer {
  private final Map<List<String>, String> types;
  private final int longest;

  private Gazetteer(Map<List<String>, String> types, int longest) {
    this.types = types;
    this.longest = longest;
  }

  /** Learns the entities of training sentences (their tokens and strict IOB2 tags). */
  public static Gazetteer fit(List<List<String>> tokens, List<List<String>> tags) {
    Map<List<String>, Map<String, Integer>> counts = new HashMap<>();
    for (int s = 0; s < tokens.size(); s++) {
      for (EntityMetrics.Entity e : EntityMetrics.entities(tags.get(s))) {
        counts
            .computeIfAbsent(key(tokens.get(s).subList(e.start(), e.end())), k -> new TreeMap<>())
            .merge(e.type(), 1, Integer::sum);
      }
    }
    Map<List<String>, String> types = new HashMap<>();
    int longest = 0;
    for (var entry : counts.entrySet()) {
      String best = null;
      for (var t : entry.getValue().entrySet()) { // alphabetical: the first of equals wins
        if (best == null || t.getValue() > entry.getValue().get(best)) best = t.getKey();
      }
      types.put(entry.getKey(), best);
      longest = Math.max(longest, entry.getKey().size());
    }
    return new Gazetteer(types, longest);
  }

  /** Entities known. */
  public int size() {
    return types.size();
  }

  /** IOB2 tags for one sentence. */
  public List<String> tag(List<String> tokens) {
    List<String> key = key(tokens);
    List<String> out = new ArrayList<>(tokens.size());
    int i = 0;
    while (i < tokens.size()) {
      String type = null;
      int length = Math.min(longest, tokens.size() - i);
      for (; length > 0; length--) {
        type = types.get(key.subList(i, i + length));
        if (type != null) break;
      }
      if (type == null) {
        out.add("O");
        i++;
        continue;
      }
      out.add("B-" + type);
      for (int j = 1; j < length; j++) out.add("I-" + type);
      i += length;
    }
    return out;
  }

  private static List<String> key(List<String> tokens) {
    return tokens.stream().map(t -> t.toLowerCase(Locale.ROOT)).toList();
  }
}
