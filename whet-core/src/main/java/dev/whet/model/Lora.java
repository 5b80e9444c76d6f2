package dev.whet.model;

import dev.whet.WhetException;
import java.util.List;
import java.util.Set;

/**
 * Low-rank adapters on named projections: {@code W x + (alpha / rank) * B A x}, with A and B
 * trained and W frozen (Hu et al. 2021; PEFT's layer).
 *
 * @param targets projection names: {@code q, k, v, o} (attention) and {@code up, down}
 *     (feed-forward; {@code gate} too for gated decoders)
 */
public record Lora(int rank, double alpha, double dropout, List<String> targets) {
  public static final Set<String> PROJECTIONS = Set.of("q", "k", "v", "o", "gate", "up", "down");

  public Lora {
    if (rank <= 0) {
      throw new WhetException("lora.rank must be positive, got " + rank);
    }
    if (dropout < 0 || dropout >= 1) {
      throw new WhetException("lora.dropout must be in [0, 1), got " + dropout);
    }
    for (String t : targets) {
      if (!PROJECTIONS.contains(t)) {
        throw new WhetException(
            "lora.targets: unknown projection '" + t + "'; choose from q, k, v, o, gate, up, down");
      }
    }
    targets = List.copyOf(targets);
  }

  public double scaling() {
    return alpha / rank;
  }

  /** True when the projection named {@code name} gets an adapter ({@code this} may be null). */
  static boolean on(Lora lora, String name) {
    return lora != null && lora.targets.contains(name);
  }
}
