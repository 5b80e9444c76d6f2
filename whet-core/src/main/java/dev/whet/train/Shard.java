package dev.whet.train;

import dev.whet.engine.Collective;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * This process's part of a data-parallel group's work: the rows {@code i % world == rank} of every
 * batch and of the validation set, and how the ranks' partial sums are added up. One process is
 * {@link #ALL}: every row, sums as they are.
 *
 * @param sum adds a vector over the ranks (the same length on each); identity for one process
 */
public record Shard(int rank, int world, UnaryOperator<double[]> sum) {
  public static final Shard ALL = new Shard(0, 1, UnaryOperator.identity());

  /** The group's shard for this process, or {@link #ALL} without a group. */
  static Shard of(Collective group) {
    return group == null ? ALL : new Shard(group.rank(), group.world(), group::sum);
  }

  /** This rank's rows of {@code rows}: those at positions {@code i % world == rank}. */
  public int[] rows(int[] rows) {
    int[] out = new int[(rows.length - rank + world - 1) / world];
    for (int k = 0; k < out.length; k++) {
      out[k] = rows[rank + k * world];
    }
    return out;
  }

  /** This rank's rows of {@code 0..n-1}. */
  public int[] rows(int n) {
    int[] out = new int[(n - rank + world - 1) / world];
    for (int k = 0; k < out.length; k++) {
      out[k] = rank + k * world;
    }
    return out;
  }

  /** This rank's rows of {@code 0..n-1} in consecutive batches of at most {@code size}. */
  public List<int[]> batches(int n, int size) {
    int[] mine = rows(n);
    List<int[]> out = new ArrayList<>();
    for (int from = 0; from < mine.length; from += size) {
      out.add(Arrays.copyOfRange(mine, from, Math.min(mine.length, from + size)));
    }
    return out;
  }
}
