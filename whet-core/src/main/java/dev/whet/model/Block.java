package dev.whet.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Module;

/**
 * A libtorch module that keeps every child it registers reachable from Java. Modules created from
 * Java answer C++ virtual calls ({@code train()}, {@code eval()}) through their Java object; if the
 * garbage collector takes a child that only C++ still holds (an unnamed container such as {@code
 * attention}), those calls fail with a NullPointerException inside native code.
 *
 * <p>A model built through {@link #owning} also owns every native object its construction made
 * (children, parameters, buffers): {@link #close()} frees them at once. Without it they went only
 * when the garbage collector ran, and a server loading and evicting models grew by a model each
 * time (issue 17).
 */
public abstract class Block extends Module {
  private final List<Module> keep = new ArrayList<>();
  private PointerScope owned;

  /** Registers {@code child} under {@code name} in {@code parent} (this block or a container). */
  protected final <M extends Module> M child(Module parent, String name, M child) {
    parent.register_module(name, child);
    keep.add(child);
    return child;
  }

  /** Builds a model that owns every native object made while building it. */
  protected static <B extends Block> B owning(Supplier<B> build) {
    PointerScope scope = new PointerScope();
    boolean built = false;
    try {
      B model = build.get();
      ((Block) model).owned = scope;
      built = true;
      return model;
    } finally {
      if (built) {
        scope.extend(); // leave the thread's scope stack, keep what was made
      }
      scope.close(); // frees everything unless extended
    }
  }

  /**
   * Frees the native objects this model owns (see {@link #owning}), and those its child models own
   * (a classifier's encoder); it is unusable after.
   */
  @Override
  public void close() {
    for (Module child : keep) {
      if (child instanceof Block b) {
        b.close();
      }
    }
    keep.clear();
    PointerScope scope = owned;
    owned = null;
    if (scope != null) {
      scope.close();
    }
    super.close();
  }
}
