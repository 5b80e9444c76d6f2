package dev.whet.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.bytedeco.openblas.global.openblas_full;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("engine")
class EngineSmokeTest {
  @Test
  void loadsLibtorchAndMultiplies() {
    Engine.init();
    Tensor a = torch.ones(new long[] {2, 3});
    Tensor b = torch.ones(new long[] {3, 4});
    Tensor c = torch.matmul(a, b);
    assertEquals(24.0, c.sum().item_double(), 0.0); // (2,4) of 3s
  }

  @Test
  void startsOnEveryProcessorTheJvmMayUse() {
    Engine.init();
    int expected = Engine.defaultThreads();
    if (System.getenv("OMP_NUM_THREADS") == null) {
      assertEquals(Runtime.getRuntime().availableProcessors(), expected);
    }
    try {
      assertEquals(expected, torch.get_num_threads(), "libtorch's pool");
      assertEquals(expected, openblas_full.openblas_get_num_threads(), "OpenBLAS's pool");
      Engine.threads(1);
      assertEquals(1, torch.get_num_threads());
      assertEquals(1, openblas_full.openblas_get_num_threads());
      assertThrows(IllegalArgumentException.class, () -> Engine.threads(0));
    } finally {
      Engine.threads(expected);
    }
  }

  @Test
  void ompNumThreadsWinsWhenTheUserSetsIt() {
    assertEquals(2, Engine.threadsFrom(null, 2));
    assertEquals(2, Engine.threadsFrom("  ", 2));
    assertEquals(3, Engine.threadsFrom("3", 2));
    assertEquals(4, Engine.threadsFrom("4,2", 2), "nested levels: the outer pool");
    assertEquals(2, Engine.threadsFrom("many", 2), "unreadable: ignored, as OpenMP does");
    assertEquals(2, Engine.threadsFrom("0", 2));
    assertEquals(1, Engine.threadsFrom(null, 0));
  }
}
