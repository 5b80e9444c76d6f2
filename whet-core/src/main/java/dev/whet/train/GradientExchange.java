package dev.whet.train;

import dev.whet.engine.Collective;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.VoidTensorHook;
import org.bytedeco.pytorch.global.torch;

/**
 * Sums the trainable parameters' gradients over a data-parallel group, as PyTorch's
 * DistributedDataParallel does: the parameters are packed, from the last one the forward pass uses
 * to the first, into buckets of about {@link #BUCKET_BYTES}, each with a flat buffer allocated
 * once; a bucket is summed in one all-reduce.
 *
 * <p>With {@code overlap}, a hook on each parameter copies its gradient into its bucket the moment
 * the last micro-batch's backward pass computes it, and a bucket whose gradients are all in starts
 * its all-reduce at once, while the backward pass goes on through the earlier layers. Buckets start
 * strictly in order, so every rank starts the same all-reduces in the same order whatever its
 * backward pass does; a parameter this rank's pass did not reach holds its bucket back until {@link
 * #sendRest}. Without {@code overlap}, every bucket is filled and sent after the backward pass.
 */
final class GradientExchange {
  /** Gradients are summed in buckets of about this many bytes: fewer, larger messages. */
  static final long BUCKET_BYTES = 25L << 20;

  private final Collective group;
  private final boolean overlap;

  /** The trainable parameters, the last used by the forward pass first. */
  private final List<Tensor> params;

  private final List<Bucket> buckets = new ArrayList<>();

  /** Per parameter: its bucket and where its gradient lies in the bucket's buffer. */
  private final int[] bucketOf;

  private final long[] offsetOf;

  /** Kept here so that the hooks' native thunks live as long as the parameters. */
  private final List<VoidTensorHook> hooks = new ArrayList<>();

  /** Per parameter, this step: whether its gradient is in its bucket's buffer. */
  private final boolean[] filled;

  private boolean armed;
  private int nextToSend;
  private int sentDuringBackward;
  private RuntimeException hookFailure;

  private static final class Bucket {
    final Tensor flat;
    final List<Integer> members = new ArrayList<>();
    int waiting; // members whose gradient is not in yet, this step
    Collective.Sum sum;

    Bucket(long elements) {
      flat = torch.zeros(elements);
      flat.retainReference(); // allocated once, outside the per-step scopes that would free it
    }
  }

  /**
   * @param params the trainable parameters in the order the forward pass uses them (the module's
   *     registration order); the buckets go from the last
   */
  GradientExchange(Collective group, List<Tensor> params, boolean overlap) {
    this(group, params, overlap, BUCKET_BYTES);
  }

  /** As above, with buckets of about {@code bucketBytes} (tests make them small). */
  GradientExchange(Collective group, List<Tensor> params, boolean overlap, long bucketBytes) {
    this.group = group;
    this.overlap = overlap;
    this.params = new ArrayList<>(params.reversed());
    int n = this.params.size();
    bucketOf = new int[n];
    offsetOf = new long[n];
    filled = new boolean[n];
    List<Integer> members = new ArrayList<>();
    long elements = 0;
    for (int i = 0; i < n; i++) {
      bucketOf[i] = buckets.size();
      offsetOf[i] = elements;
      members.add(i);
      elements += this.params.get(i).numel();
      if (elements * Float.BYTES >= bucketBytes || i == n - 1) {
        Bucket b = new Bucket(elements);
        b.members.addAll(members);
        b.waiting = members.size();
        buckets.add(b);
        members.clear();
        elements = 0;
      }
    }
    if (overlap) {
      for (int i = 0; i < n; i++) {
        int index = i;
        VoidTensorHook hook =
            new VoidTensorHook() {
              @Override
              public void call(TensorBase grad) {
                try {
                  onGradient(index, grad);
                } finally {
                  // JavaCPP hands the hook a reference of its own; released now, or autograd,
                  // seeing the gradient shared, copies it instead of adopting it (a 3-4x slower
                  // pass).
                  grad.close();
                }
              }
            };
        hooks.add(hook);
        this.params.get(i).register_hook(hook);
      }
    }
  }

  /** How many buckets there are; {@link #sentDuringBackward} of the last step tells the overlap. */
  int buckets() {
    return buckets.size();
  }

  /** Buckets whose all-reduce started during the last step's backward pass. */
  int sentDuringBackward() {
    return sentDuringBackward;
  }

  /**
   * Call before the backward pass of a step's last micro-batch (the one after which the gradients
   * are whole): with {@code overlap}, buckets are sent from within that pass.
   */
  void beforeLastBackward() {
    armed = overlap;
  }

  /**
   * Call after the step's backward passes: fills the buckets not sent yet (a gradient from this
   * step's earlier micro-batches, or zeros where this rank has none) and sends them, in order.
   */
  void sendRest() {
    armed = false;
    if (hookFailure != null) {
      throw hookFailure;
    }
    sentDuringBackward = nextToSend;
    for (int b = nextToSend; b < buckets.size(); b++) {
      for (int i : buckets.get(b).members) {
        if (!filled[i]) {
          Tensor g = params.get(i).grad();
          Tensor slot = slot(i);
          if (g.defined()) {
            slot.copy_(g);
          } else {
            slot.zero_();
          }
        }
      }
      send(b);
    }
  }

  /** Per parameter, in {@link #params} order: 1 when it has a gradient on this rank, else 0. */
  double[] hasGradient() {
    double[] has = new double[params.size()];
    for (int i = 0; i < has.length; i++) {
      has[i] = params.get(i).grad().defined() ? 1 : 0;
    }
    return has;
  }

  /**
   * Waits for every bucket's sum and makes it the parameters' gradients; a parameter that no rank
   * has a gradient for ({@code ranksWithGradient} 0) keeps none, so the optimizer leaves it alone,
   * as one process would.
   */
  void awaitSums(double[] ranksWithGradient) {
    for (Bucket b : buckets) {
      b.sum.await();
      b.sum = null;
      b.waiting = b.members.size(); // for the next step
    }
    for (int i = 0; i < params.size(); i++) {
      filled[i] = false;
      if (ranksWithGradient[i] == 0) {
        continue;
      }
      Tensor p = params.get(i);
      Tensor sum = slot(i);
      if (p.grad().defined()) {
        p.grad().copy_(sum);
      } else {
        p.mutable_grad().put(sum.clone());
      }
    }
    nextToSend = 0;
  }

  /** The hook: runs on the backward pass's thread as parameter {@code i}'s gradient is done. */
  private void onGradient(int i, TensorBase incoming) {
    if (!armed || hookFailure != null) {
      return; // an earlier micro-batch, or validation's pass: the gradient accumulates as usual
    }
    try {
      if (filled[i]) {
        throw new IllegalStateException("parameter " + i + "'s gradient arrived twice in a pass");
      }
      // What autograd is about to make the gradient: the earlier micro-batches' plus this one's.
      // Copied in whatever layout it comes (a weight's gradient is often a transposed view):
      // nothing is allocated here, as fresh memory costs a page fault a page on some machines.
      Tensor slot = slot(i);
      slot.copy_(new Tensor((Pointer) incoming));
      Tensor accumulated = params.get(i).grad();
      if (accumulated.defined()) {
        slot.add_(accumulated);
      }
      filled[i] = true;
      buckets.get(bucketOf[i]).waiting--;
      while (nextToSend < buckets.size() && buckets.get(nextToSend).waiting == 0) {
        send(nextToSend);
      }
    } catch (RuntimeException e) {
      hookFailure = e; // thrown from sendRest, on the training thread, not through native code
    }
  }

  /** Parameter {@code i}'s place in its bucket's buffer, in the parameter's shape. */
  private Tensor slot(int i) {
    Tensor p = params.get(i);
    return buckets
        .get(bucketOf[i])
        .flat
        .narrow(0, offsetOf[i], p.numel())
        .view(p.sizes().vec().get());
  }

  private void send(int b) {
    Bucket bucket = buckets.get(b);
    bucket.sum = group.startSum(bucket.flat);
    nextToSend = b + 1;
  }
}
