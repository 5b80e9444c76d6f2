package dev.whet.model;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Module;

/**
 * A libtorch module that keeps every child it registers reachable from Java. Modules created from
 * Java answer C++ virtual calls ({@code train()}, {@code eval()}) through their Java object; if the
 * garbage collector takes a child that only C++ still holds (an unnamed container such as {@code
 * attention}), those calls fail with a NullPointerException inside native code.
 */
public abstract class Block extends Module {
  private final List<Module> keep = new ArrayList<>();

  /** Registers {@code child} under {@code name} in {@code parent} (this block or a container). */
  protected final <M extends Module> M child(Module parent, String name, M child) {
    parent.register_module(name, child);
    keep.add(child);
    return child;
  }
}
