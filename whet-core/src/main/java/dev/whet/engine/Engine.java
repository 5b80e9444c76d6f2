package dev.whet.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;

/**
 * Loads libtorch safely and holds process-wide engine settings.
 *
 * <p>Call {@link #init()} before touching any {@code org.bytedeco.pytorch} class. On a fresh
 * machine (empty {@code ~/.javacpp/cache}) the first JVM that loads libtorch usually crashed while
 * JavaCPP extracted libraries one by one as it loaded them; extracting every native resource before
 * loading anything avoided it in every fresh run tried (DESIGN.md, engine notes).
 */
public final class Engine {
  private static volatile boolean ready;

  private Engine() {}

  /** Extracts and loads the natives once per process; cheap after the first call. */
  public static synchronized void init() {
    if (ready) {
      return;
    }
    quietJavaCpp();
    String platform = Loader.getPlatform();
    try {
      Loader.cacheResources("/org/bytedeco/openblas/" + platform + "/");
      Loader.cacheResources("/org/bytedeco/pytorch/" + platform + "/");
    } catch (IOException e) {
      throw new UncheckedIOException(
          "could not extract the libtorch natives into ~/.javacpp/cache", e);
    }
    Loader.load(torch.class);
    ready = true;
  }

  /** JavaCPP logs every library it loads when its logger is at debug; keep start-up silent. */
  private static void quietJavaCpp() {
    if (System.getProperty("org.bytedeco.javacpp.logger") == null) {
      System.setProperty("org.bytedeco.javacpp.logger", "slf4j");
    }
    if (System.getProperty("org.bytedeco.javacpp.logger.debug") == null) {
      System.setProperty("org.bytedeco.javacpp.logger.debug", "false");
    }
  }

  /** Sets libtorch's intra-op thread count (one per core by default). */
  public static void threads(int n) {
    init();
    torch.set_num_threads(n);
  }

  /** What the CPU can do natively, read from /proc/cpuinfo (never assumed). */
  public static boolean cpuHasNativeBf16() {
    try {
      String flags =
          java.nio.file.Files.readString(java.nio.file.Path.of("/proc/cpuinfo"))
              .toLowerCase(Locale.ROOT);
      return flags.contains(" avx512_bf16") || flags.contains(" amx_bf16");
    } catch (IOException e) {
      return false;
    }
  }
}
