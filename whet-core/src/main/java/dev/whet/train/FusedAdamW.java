package dev.whet.train;

import dev.whet.WhetException;
import dev.whet.engine.Tensors;
import dev.whet.io.TensorData;
import dev.whet.model.Weights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Dispatcher;
import org.bytedeco.pytorch.GenericList;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.OperatorHandle;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorType;
import org.bytedeco.pytorch.Type;
import org.bytedeco.pytorch.global.torch;

/**
 * AdamW (decoupled weight decay, as {@code torch.optim.AdamW}) through libtorch's fused CPU kernel
 * {@code aten::_fused_adamw_}: one vectorised, multi-threaded pass over each parameter, its
 * gradient and both moments, instead of the seven or so separate passes of libtorch's C++ {@code
 * torch::optim::AdamW}. The Java binding has no function for the op, so it is called by name
 * through the dispatcher. Gradient clipping folds into the same pass: the kernel divides each
 * gradient by {@code grad_scale} before using it.
 *
 * <p>On the default model (22.7M parameters) one step took 43 ms against 175 ms for libtorch's
 * AdamW on the 2-core AVX2 machine, with the parameters equal to within 1.2e-7 after six steps.
 * That is 2 % of a 32 × 128 training step but 10 % of a step on short sentences.
 *
 * <p>The state (both moments and the step count of every parameter) is saved by parameter name in a
 * safetensors file, so a checkpoint resumes exactly and can be read by any tool.
 */
public final class FusedAdamW {
  private static final double BETA1 = 0.9;
  private static final double BETA2 = 0.999;
  private static final double EPS = 1e-8;

  private record Group(List<String> names, List<Tensor> params, double lr, double weightDecay) {}

  private record State(Tensor expAvg, Tensor expAvgSq, Tensor step) {}

  private final List<Group> groups = new ArrayList<>();
  private final Map<String, State> state = new LinkedHashMap<>();
  private final OperatorHandle op;

  public FusedAdamW() {
    this.op = Dispatcher.singleton().findSchemaOrThrow("aten::_fused_adamw_", "");
  }

  /**
   * Adds parameters trained at a peak rate {@code lr} with decoupled weight decay {@code wd}. Their
   * state is allocated here, outside the per-step {@code PointerScope}s that would free it.
   */
  public void addGroup(Map<String, Tensor> params, double lr, double weightDecay) {
    params.forEach((name, p) -> state.put(name, fresh(p)));
    groups.add(
        new Group(
            new ArrayList<>(params.keySet()), new ArrayList<>(params.values()), lr, weightDecay));
  }

  /** The trained parameters, in group order. */
  public List<Tensor> parameters() {
    List<Tensor> all = new ArrayList<>();
    groups.forEach(g -> all.addAll(g.params()));
    return all;
  }

  /** Every group's peak learning rate, in order. */
  public List<Double> learningRates() {
    return groups.stream().map(Group::lr).toList();
  }

  /**
   * One update of every parameter that has a gradient (as libtorch's optimizers, a parameter
   * without one is left alone and its step count does not advance).
   *
   * @param lrFactor the schedule's factor applied to every group's peak rate
   * @param gradDivisor each gradient is divided by this first (1 for none; clipping passes {@code
   *     norm / max_norm})
   */
  public void step(double lrFactor, double gradDivisor) {
    try (NoGradGuard noGrad = new NoGradGuard()) {
      Tensor divisor =
          gradDivisor == 1
              ? null
              : torch.full(new long[] {}, new org.bytedeco.pytorch.Scalar(gradDivisor));
      for (Group g : groups) {
        List<Tensor> params = new ArrayList<>();
        List<Tensor> grads = new ArrayList<>();
        List<Tensor> expAvgs = new ArrayList<>();
        List<Tensor> expAvgSqs = new ArrayList<>();
        List<Tensor> steps = new ArrayList<>();
        for (int i = 0; i < g.params().size(); i++) {
          Tensor p = g.params().get(i);
          Tensor grad = p.grad();
          if (!grad.defined()) {
            continue;
          }
          State s = state.get(g.names().get(i));
          s.step().add_(new org.bytedeco.pytorch.Scalar(1.0)); // the kernel reads the new count
          params.add(p);
          grads.add(grad);
          expAvgs.add(s.expAvg());
          expAvgSqs.add(s.expAvgSq());
          steps.add(s.step());
        }
        if (params.isEmpty()) {
          continue;
        }
        IValueVector stack = new IValueVector();
        stack.push_back(list(params));
        stack.push_back(list(grads));
        stack.push_back(list(expAvgs));
        stack.push_back(list(expAvgSqs));
        stack.push_back(list(List.of())); // max_exp_avg_sqs: only for amsgrad
        stack.push_back(list(steps));
        stack.push_back(new IValue(g.lr() * lrFactor));
        stack.push_back(new IValue(BETA1));
        stack.push_back(new IValue(BETA2));
        stack.push_back(new IValue(g.weightDecay()));
        stack.push_back(new IValue(EPS));
        stack.push_back(new IValue(false)); // amsgrad
        stack.push_back(new IValue(false)); // maximize
        stack.push_back(divisor == null ? new IValue() : new IValue(divisor)); // grad_scale
        stack.push_back(new IValue()); // found_inf
        Dispatcher.singleton().callBoxed(op, stack);
      }
    }
  }

  private static State fresh(Tensor p) {
    return new State(torch.zeros_like(p), torch.zeros_like(p), torch.zeros(new long[] {}));
  }

  /**
   * The 2-norm of all gradients together (as {@code torch.nn.utils.clip_grad_norm_} measures it).
   */
  public double gradNorm() {
    List<Tensor> norms = new ArrayList<>();
    for (Tensor p : parameters()) {
      Tensor g = p.grad();
      if (g.defined()) {
        norms.add(g.norm());
      }
    }
    if (norms.isEmpty()) {
      return 0;
    }
    return torch
        .stack(new org.bytedeco.pytorch.TensorVector(norms.toArray(new Tensor[0])))
        .norm()
        .item_double();
  }

  /** Drops every gradient (rather than zeroing it): the next backward writes fresh ones. */
  public void zeroGrad() {
    for (Group g : groups) {
      for (Tensor p : g.params()) {
        p.mutable_grad().reset();
      }
    }
  }

  /** A list IValue of tensors, the boxed form of a {@code Tensor[]} argument. */
  private static IValue list(List<Tensor> tensors) {
    GenericList l = new GenericList(new Type.TypePtr(TensorType.get()));
    l.reserve(tensors.size());
    for (Tensor t : tensors) {
      l.push_back(new IValue(t));
    }
    return new IValue(l);
  }

  /**
   * The state by name: {@code NAME.exp_avg}, {@code NAME.exp_avg_sq} and {@code NAME.step} (a
   * one-element float tensor) for every trained parameter.
   */
  public Map<String, TensorData> stateData() {
    Map<String, TensorData> out = new LinkedHashMap<>();
    state.forEach(
        (name, s) -> {
          out.put(name + ".exp_avg", Weights.toData(name + ".exp_avg", s.expAvg()));
          out.put(name + ".exp_avg_sq", Weights.toData(name + ".exp_avg_sq", s.expAvgSq()));
          out.put(name + ".step", Weights.toData(name + ".step", s.step().reshape(1)));
        });
    return out;
  }

  /**
   * Restores what {@link #stateData} saved: every trained parameter's state must be there. Call it
   * outside a {@code PointerScope}.
   */
  public void loadState(Map<String, TensorData> saved, String source) {
    Map<String, Tensor> params = new LinkedHashMap<>();
    for (Group g : groups) {
      for (int i = 0; i < g.names().size(); i++) {
        params.put(g.names().get(i), g.params().get(i));
      }
    }
    if (saved.size() != 3 * params.size()) {
      throw new WhetException(
          source
              + ": optimizer state for "
              + saved.size() / 3
              + " parameters, but this run trains "
              + params.size()
              + " (a checkpoint of another job?)");
    }
    params.forEach(
        (name, p) -> {
          TensorData m = saved.get(name + ".exp_avg");
          TensorData v = saved.get(name + ".exp_avg_sq");
          TensorData step = saved.get(name + ".step");
          if (m == null || v == null || step == null) {
            throw new WhetException(
                source + ": no optimizer state for '" + name + "' (a checkpoint of another job?)");
          }
          long[] want = Tensors.shape(p);
          if (!Arrays.equals(want, m.shape()) || !Arrays.equals(want, v.shape())) {
            throw new WhetException(
                source + ": optimizer state for '" + name + "' has the wrong shape");
          }
          state.put(
              name,
              new State(
                  Weights.toTensor(m),
                  Weights.toTensor(v),
                  Weights.toTensor(step).reshape(new long[] {})));
        });
  }
}
