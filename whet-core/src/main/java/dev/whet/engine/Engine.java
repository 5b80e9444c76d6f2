package dev.whet.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.openblas.global.openblas_full;
import org.bytedeco.pytorch.Tensor;
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
    threads(defaultThreads());
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

  /**
   * Sets the intra-op thread count of libtorch (its OpenMP pool: elementwise ops, oneDNN's bf16
   * GEMMs) and of OpenBLAS (fp32 GEMMs) together, so neither runs on fewer cores than the other.
   */
  public static void threads(int n) {
    init();
    if (n < 1) {
      throw new IllegalArgumentException("thread count must be at least 1, not " + n);
    }
    torch.set_num_threads(n);
    openblas_full.openblas_set_num_threads(n);
  }

  /** libtorch's current intra-op thread count. */
  public static int threads() {
    init();
    return torch.get_num_threads();
  }

  /**
   * The thread count Whet starts with: {@code OMP_NUM_THREADS} when the user set it, else every
   * processor this JVM may run on ({@code availableProcessors} honours the affinity mask and the
   * cgroup CPU quota). libtorch's own default cannot be trusted: on a 2-core EPYC with one thread
   * per core it chose 1, halving every bf16 op (DESIGN.md, engine notes).
   */
  public static int defaultThreads() {
    return threadsFrom(
        System.getenv("OMP_NUM_THREADS"), Runtime.getRuntime().availableProcessors());
  }

  static int threadsFrom(String ompNumThreads, int processors) {
    if (ompNumThreads != null && !ompNumThreads.isBlank()) {
      // OpenMP allows a list ("4,2" for nested levels); the first entry is the outer pool.
      String first = ompNumThreads.split(",")[0].trim();
      try {
        int n = Integer.parseInt(first);
        if (n > 0) {
          return n;
        }
      } catch (NumberFormatException e) {
        // fall through: OpenMP ignores a value it cannot read, and so do we
      }
    }
    return Math.max(1, processors);
  }

  /** The machine's dense-math ceiling: a 2048³ matrix multiply, best of three. */
  public static double matmulGflops(boolean bf16) {
    init();
    int n = bf16 ? 1024 : 2048;
    try (PointerScope scope = new PointerScope()) {
      Tensor a = torch.rand(new long[] {n, n});
      Tensor b = torch.rand(new long[] {n, n});
      if (bf16) {
        a = a.to(torch.ScalarType.BFloat16);
        b = b.to(torch.ScalarType.BFloat16);
      }
      double best = Double.MAX_VALUE;
      for (int i = 0; i < 4; i++) {
        long t0 = System.nanoTime();
        Tensors.toFloats(a.matmul(b).sum());
        best = Math.min(best, (System.nanoTime() - t0) / 1e9);
      }
      return 2.0 * n * n * n / best / 1e9;
    }
  }

  /** What the CPU can do natively, read from /proc/cpuinfo (never assumed). */
  public static boolean cpuHasNativeBf16() {
    String flags = cpuInfo("flags").toLowerCase(Locale.ROOT) + " ";
    return flags.contains(" avx512_bf16 ") || flags.contains(" amx_bf16 ");
  }

  /** The CPU's model name from /proc/cpuinfo ("AMD EPYC"), or "" where there is none. */
  public static String cpuName() {
    return cpuInfo("model name");
  }

  /** The CPU's model name and flags from /proc/cpuinfo: what tells two machine kinds apart. */
  public static String cpuModel() {
    return cpuName() + " [" + cpuInfo("flags") + "]";
  }

  /** The value of the first /proc/cpuinfo line named {@code field}, or "" if there is none. */
  private static String cpuInfo(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().equals(field)) {
          return line.substring(colon + 1).trim();
        }
      }
    } catch (IOException e) {
      // not Linux, or no /proc: nothing is known
    }
    return "";
  }
}
