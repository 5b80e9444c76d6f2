package dev.whet.engine;

import dev.whet.WhetException;
import java.time.Duration;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;

/**
 * A group of training processes joined through PyTorch's own distributed engine (c10d): a {@code
 * TCPStore} at the rendezvous address (rank 0 serves it) and a {@code ProcessGroupGloo} over it, as
 * {@code torch.distributed.init_process_group("gloo", …)} makes. Whet's data-parallel training
 * (issue 20) sums gradients with {@link #startSum} ({@code train.GradientExchange}).
 */
public final class Collective implements AutoCloseable {
  private final int rank;
  private final int world;
  private final ProcessGroupGloo group;
  private final Duration timeout;

  private Collective(int rank, int world, ProcessGroupGloo group, Duration timeout) {
    this.rank = rank;
    this.world = world;
    this.group = group;
    this.timeout = timeout;
  }

  /**
   * Joins the group: rank 0 serves the store at {@code host:port}, the others connect to it;
   * returns once all {@code world} ranks are in, or fails after {@code timeout} naming what was
   * missing.
   */
  public static Collective join(String host, int port, int rank, int world, Duration timeout) {
    if (world < 1 || rank < 0 || rank >= world) {
      throw new WhetException("rank " + rank + " is not in a group of " + world);
    }
    Engine.init();
    Milliseconds ms = new Milliseconds(timeout.toMillis());
    try {
      TCPStoreOptions options = new TCPStoreOptions();
      options.port((short) port).isServer(rank == 0).waitWorkers(false).timeout(ms);
      TCPStore store = new TCPStore(host, options);
      ProcessGroupGloo.Options gloo = ProcessGroupGloo.Options.create(ms);
      gloo.devices(new GlooDeviceVector(device(host, port)));
      ProcessGroupGloo group = new ProcessGroupGloo(store, rank, world, gloo);
      // c10d keeps these alive through its own reference counts (the group holds the store):
      // JavaCPP deleting them as well corrupts the heap, so they are shut down, never deleted.
      store.deallocate(false);
      group.deallocate(false);
      return new Collective(rank, world, group, timeout);
    } catch (RuntimeException e) {
      throw new WhetException(
          "rank "
              + rank
              + " of "
              + world
              + " could not join the group at "
              + host
              + ":"
              + port
              + " within "
              + timeout.toSeconds()
              + " s ("
              + e.getMessage()
              + ")",
          e);
    }
  }

  /**
   * The network device this rank's Gloo connections use: the interface named by {@code
   * GLOO_SOCKET_IFNAME} (as in PyTorch), else the local address this machine reaches the rendezvous
   * from — loopback for a group on one machine, the right interface on a cluster (Gloo binding to
   * the rendezvous host's name would only work on rank 0's machine).
   */
  private static org.bytedeco.pytorch.gloo.Device device(String host, int port) {
    String ifname = System.getenv("GLOO_SOCKET_IFNAME");
    if (ifname != null && !ifname.isBlank()) {
      return ProcessGroupGloo.createDeviceForInterface(ifname);
    }
    try (java.net.DatagramSocket probe = new java.net.DatagramSocket()) {
      probe.connect(new java.net.InetSocketAddress(host, port)); // routing only: nothing is sent
      return ProcessGroupGloo.createDeviceForHostname(probe.getLocalAddress().getHostAddress());
    } catch (java.io.IOException e) {
      throw new WhetException(
          "no route from this machine to the rendezvous " + host + ":" + port + " (" + e + ")", e);
    }
  }

  public int rank() {
    return rank;
  }

  public int world() {
    return world;
  }

  /**
   * The element-wise sum of {@code values} over the ranks (the same length on every rank), in
   * double precision: step statistics, and decisions only rank 0 makes (the others pass zeros).
   */
  public double[] sum(double[] values) {
    Tensor t = Tensors.fromDoubles(values, values.length);
    startSum(t).await();
    double[] out = new double[values.length];
    for (int i = 0; i < out.length; i++) out[i] = t.select(0, i).item_double();
    return out;
  }

  private volatile boolean leaving;

  /**
   * Asks this rank to leave at its next exchange (from another thread: a server shutting down):
   * that exchange fails as a lost group here, and the other ranks find this one gone.
   */
  public void leave() {
    leaving = true;
  }

  /**
   * Starts replacing {@code flat} (contiguous, the same shape on every rank) by its sum over the
   * ranks, in place, and returns at once: Gloo's threads exchange it while this one goes on (a
   * backward pass, say); the sum is there once {@link Sum#await} returns. Every rank must start its
   * sums in the same order.
   */
  public Sum startSum(Tensor flat) {
    if (leaving) {
      close(); // the others' exchanges fail now, as if this process had stopped
      throw new GroupLost(
          "rank " + rank + " of " + world + " left the group (its process is stopping)", null);
    }
    try {
      return new Sum(group.allreduce(new TensorVector(flat), new AllreduceOptions()));
    } catch (RuntimeException e) {
      throw lost(e);
    }
  }

  /** A sum started by {@link #startSum}. */
  public final class Sum {
    private final Work work;

    private Sum(Work work) {
      this.work = work;
    }

    /** Waits for the sum, at most the group's timeout. */
    public void await() {
      boolean done;
      try {
        done = work._wait(new Milliseconds(timeout.toMillis()));
      } catch (RuntimeException e) {
        throw lost(e);
      }
      if (!done) {
        throw new GroupLost(
            "rank "
                + rank
                + " of "
                + world
                + ": an all-reduce did not finish within "
                + timeout.toSeconds()
                + " s (another rank is stuck or gone); the run stops here and continues with"
                + " --resume",
            null);
      }
    }
  }

  /** Gloo reports a peer that died as a closed connection, at once. */
  private GroupLost lost(RuntimeException e) {
    return new GroupLost(
        "rank "
            + rank
            + " of "
            + world
            + " lost the group during an all-reduce: another rank stopped or became unreachable"
            + " ("
            + e.getMessage()
            + "); the run stops here and continues with --resume",
        e);
  }

  /** A rank of the group stopped or became unreachable mid-run: the run can resume. */
  public static final class GroupLost extends WhetException {
    GroupLost(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final java.util.concurrent.atomic.AtomicBoolean closed =
      new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Leaves the group: its connections and threads end; the process may then exit. Once: another
   * thread may close it to stop a rank (a server shutting down), its own thread then again.
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      group.shutdown();
    }
  }
}
