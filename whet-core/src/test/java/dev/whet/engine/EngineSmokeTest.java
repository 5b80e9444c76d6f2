package dev.whet.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
