package dev.whet.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.WhetException;
import dev.whet.engine.Tensors;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("engine")
class LlamaModelTest {
  static final Path TINY_STORIES = Path.of("src/test/resources/models/TinyStories-656K-hf");

  @Test
  void configReadsTheRealCheckpointAndRejectsWhatIsNotImplemented() {
    LlamaConfig c = LlamaConfig.read(TINY_STORIES.resolve("config.json"));
    assertEquals(8, c.heads());
    assertEquals(4, c.kvHeads());
    assertEquals(16, c.headDim());
    assertTrue(c.tieWordEmbeddings());
    assertEquals(List.of(2), c.eosTokenIds());

    ObjectNode bad = new ObjectMapper().createObjectNode();
    bad.put("model_type", "llama");
    bad.put("vocab_size", 10);
    bad.put("hidden_size", 8);
    bad.put("intermediate_size", 8);
    bad.put("num_hidden_layers", 1);
    bad.put("num_attention_heads", 2);
    bad.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
    WhetException e =
        assertThrows(WhetException.class, () -> LlamaConfig.of(bad, Path.of("m/config.json")));
    assertTrue(e.getMessage().contains("m/config.json"), e.getMessage());
    assertTrue(e.getMessage().contains("rope_scaling type 'yarn'"), e.getMessage());
  }

  @Test
  void llama3RopeScalingKeepsHighFrequenciesAndDividesLowOnes() {
    double[] inv = TinyLlama.config().inverseFrequencies();
    // theta^-0 = 1: wavelength 2π < 32/4, kept; the lowest has wavelength 628 > 32/1: ÷ 8.
    assertEquals(1.0, inv[0], 1e-12);
    double plain = Math.pow(10000.0, -2.0 * (inv.length - 1) / 4);
    assertEquals(plain / 8, inv[inv.length - 1], 1e-12);
  }

  @Test
  void packedExamplesSeeOnlyThemselves() {
    LlamaModel m = TinyLlama.model(TinyLlama.config(), null, 1);
    long[] a = {5, 9, 13};
    long[] b = {7, 3, 11, 21};
    try (InferenceMode g = new InferenceMode()) {
      float[] alone =
          concat(
              Tensors.toFloats(m.forward(Tensors.fromLongs(a, 1, 3))),
              Tensors.toFloats(m.forward(Tensors.fromLongs(b, 1, 4))));
      long[] seq = {0, 0, 0, 1, 1, 1, 1};
      Tensor ids = Tensors.fromLongs(new long[] {5, 9, 13, 7, 3, 11, 21}, 1, 7);
      Tensor packed =
          m.forward(
              ids,
              Tensors.fromLongs(LlamaModel.packedPositions(seq, 7), 1, 7),
              LlamaModel.packedMask(Tensors.fromLongs(seq, 1, 7)),
              null);
      float[] together = Tensors.toFloats(packed);
      assertEquals(alone.length, together.length);
      for (int i = 0; i < alone.length; i++) {
        assertEquals(alone[i], together[i], 1e-5, "logit " + i);
      }
    }
  }

  /**
   * LoRA in bf16 as SFT trains it: the frozen base stored in bf16 (half the memory), attention
   * written out instead of libtorch's slow fused bf16 kernel, adapters and their gradients in fp32.
   * Logits, under causal and packed masks, and the adapters' gradients agree with the fp32 model to
   * bf16's precision.
   */
  @Test
  void loraWithAFrozenBf16BaseMatchesFp32() {
    Lora lora = new Lora(2, 4, 0, List.of("q", "v", "down"));
    LlamaModel full = TinyLlama.model(TinyLlama.config(), lora, 4);
    LlamaModel half = TinyLlama.model(TinyLlama.config(), lora, 4);
    long frozen = 0;
    for (LlamaModel m : List.of(full, half)) {
      for (Map.Entry<String, Tensor> p : Weights.parameters(m).entrySet()) {
        if (!p.getKey().contains(".lora_")) {
          p.getValue().set_requires_grad(false);
          frozen += p.getValue().numel();
        } else if (p.getKey().contains("lora_B")) {
          try (NoGradGuard g = new NoGradGuard()) {
            p.getValue().copy_(torch.randn(Tensors.shape(p.getValue())).mul(new Scalar(0.3)));
          }
        }
      }
    }
    try (NoGradGuard g = new NoGradGuard()) { // the same B in both models
      Map<String, Tensor> a = Weights.parameters(full);
      Weights.parameters(half).forEach((k, v) -> v.copy_(a.get(k)));
    }
    assertEquals(frozen / 2, Weights.storeFrozenIn(half, torch.ScalarType.BFloat16));
    for (Map.Entry<String, Tensor> p : Weights.parameters(half).entrySet()) {
      boolean adapter = p.getKey().contains(".lora_");
      assertEquals(
          adapter ? torch.ScalarType.Float : torch.ScalarType.BFloat16,
          p.getValue().scalar_type().intern(),
          p.getKey());
    }
    long[] seq = {0, 0, 0, 1, 1, 1, 1};
    Tensor ids = Tensors.fromLongs(new long[] {5, 9, 13, 7, 3, 11, 21}, 1, 7);
    Tensor positions = Tensors.fromLongs(LlamaModel.packedPositions(seq, 7), 1, 7);
    Tensor packed = LlamaModel.packedMask(Tensors.fromLongs(seq, 1, 7));
    Tensor targets = Tensors.fromLongs(new long[] {9, 13, 2, 3, 11, 21, 2}, 7);
    float[][] logits = new float[2][];
    float[][] grads = new float[2][];
    for (int run = 0; run < 2; run++) {
      LlamaModel m = run == 0 ? full : half;
      boolean bf16 = run == 1;
      torch.set_autocast_enabled(torch.DeviceType.CPU, bf16);
      torch.set_autocast_dtype(torch.DeviceType.CPU, torch.ScalarType.BFloat16);
      Tensor causal = m.forward(ids).to(torch.ScalarType.Float); // (1, 7, vocab)
      Tensor out = m.forward(ids, positions, packed, null).to(torch.ScalarType.Float);
      torch.set_autocast_enabled(torch.DeviceType.CPU, false);
      torch.clear_cache();
      torch.cross_entropy(out.view(7, -1), targets).add(causal.mean()).backward();
      logits[run] = concat(Tensors.toFloats(causal), Tensors.toFloats(out));
      grads[run] =
          Tensors.toFloats(
              Weights.parameters(m).get("model.layers.1.self_attn.q_proj.lora_A.weight").grad());
    }
    assertTrue(relative(logits[0], logits[1]) < 0.03, "logits " + relative(logits[0], logits[1]));
    assertTrue(relative(grads[0], grads[1]) < 0.1, "adapter grads " + relative(grads[0], grads[1]));
  }

  private static double relative(float[] expected, float[] actual) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < expected.length; i++) {
      num += (expected[i] - actual[i]) * (double) (expected[i] - actual[i]);
      den += expected[i] * (double) expected[i];
    }
    return Math.sqrt(num / den);
  }

  /**
   * Autograd through the whole decoder (RoPE, GQA, RMSNorm, SwiGLU, LoRA) agrees with central
   * finite differences of the loss, in double precision.
   */
  @Test
  void gradientsMatchFiniteDifferences() {
    LlamaModel m =
        TinyLlama.model(TinyLlama.config(), new Lora(2, 4, 0, List.of("q", "v", "down")), 2);
    m.to(torch.ScalarType.Double, false);
    // Give the adapters non-zero B so their A gradients are non-trivial too.
    try (NoGradGuard g = new NoGradGuard()) {
      for (Map.Entry<String, Tensor> p : Weights.parameters(m).entrySet()) {
        if (p.getKey().contains("lora_B")) {
          p.getValue().copy_(torch.randn(Tensors.shape(p.getValue())).mul(new Scalar(0.3)));
        }
      }
    }
    Tensor ids = Tensors.fromLongs(new long[] {1, 7, 3, 9, 4, 2}, 1, 6);
    Tensor targets = Tensors.fromLongs(new long[] {7, 3, 9, 4, 2, 5}, 6);
    Map<String, Tensor> params = Weights.parameters(m);
    for (Tensor p : params.values()) {
      p.mutable_grad().reset();
    }
    loss(m, ids, targets).backward();
    List<String> checked =
        List.of(
            "model.embed_tokens.weight",
            "model.layers.0.self_attn.q_proj.bias",
            "model.layers.0.self_attn.k_proj.weight",
            "model.layers.1.self_attn.q_proj.lora_A.weight",
            "model.layers.1.mlp.down_proj.lora_B.weight",
            "model.layers.1.mlp.up_proj.weight",
            "model.layers.1.post_attention_layernorm.weight",
            "model.norm.weight",
            "lm_head.weight");
    double eps = 1e-6;
    for (String name : checked) {
      Tensor p = params.get(name);
      if (!p.requires_grad()) {
        continue; // frozen base weight under LoRA
      }
      double[] grad = doubles(p.grad());
      for (int idx : new int[] {0, (int) p.numel() / 2, (int) p.numel() - 1}) {
        double numeric;
        try (NoGradGuard g = new NoGradGuard()) {
          Tensor flat = p.view(-1);
          double old = flat.get(idx).item_double();
          flat.get(idx).fill_(new Scalar(old + eps));
          double up = loss(m, ids, targets).item_double();
          flat.get(idx).fill_(new Scalar(old - eps));
          double down = loss(m, ids, targets).item_double();
          flat.get(idx).fill_(new Scalar(old));
          numeric = (up - down) / (2 * eps);
        }
        assertEquals(numeric, grad[idx], 1e-6 + 1e-5 * Math.abs(numeric), name + "[" + idx + "]");
      }
    }
  }

  @Test
  void mergedAdaptersGiveTheSameLogits() {
    LlamaModel m =
        TinyLlama.model(
            TinyLlama.config(),
            new Lora(4, 8, 0, List.of("q", "k", "v", "o", "gate", "up", "down")),
            4);
    try (NoGradGuard g = new NoGradGuard()) {
      for (Map.Entry<String, Tensor> p : Weights.parameters(m).entrySet()) {
        if (p.getKey().contains("lora_B")) {
          p.getValue().copy_(torch.randn(Tensors.shape(p.getValue())).mul(new Scalar(0.3)));
        }
      }
    }
    Tensor ids = Tensors.fromLongs(new long[] {3, 1, 4, 1, 5, 9, 2, 6}, 1, 8);
    try (InferenceMode g = new InferenceMode()) {
      float[] adapted = Tensors.toFloats(m.forward(ids));
      m.projections().forEach(l -> l.loraEnabled(false));
      float[] base = Tensors.toFloats(m.forward(ids));
      m.projections().forEach(l -> l.loraEnabled(true));
      m.mergeLora();
      assertTrue(Weights.parameters(m).keySet().stream().noneMatch(k -> k.contains("lora_")));
      float[] merged = Tensors.toFloats(m.forward(ids));
      double maxDiff = 0;
      double changed = 0;
      for (int i = 0; i < adapted.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(adapted[i] - merged[i]));
        changed = Math.max(changed, Math.abs(adapted[i] - base[i]));
      }
      assertTrue(maxDiff < 1e-5, "merged vs adapter max diff " + maxDiff);
      assertTrue(changed > 1e-2, "the adapters must matter for this test: " + changed);
    }
  }

  /** F16 weights in two shards load (as float32) and compute what the F32 checkpoint computes. */
  @Test
  void shardedHalfPrecisionCheckpointLoads(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    Map<String, dev.whet.io.TensorData> f32 = dev.whet.io.Safetensors.readModelDir(TINY_STORIES);
    Map<String, dev.whet.io.TensorData> a = new java.util.LinkedHashMap<>();
    Map<String, dev.whet.io.TensorData> b = new java.util.LinkedHashMap<>();
    StringBuilder index = new StringBuilder("{\"weight_map\": {");
    int i = 0;
    for (dev.whet.io.TensorData t : f32.values()) {
      float[] v = t.toFloats();
      java.nio.ByteBuffer buf =
          java.nio.ByteBuffer.allocate(v.length * 2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      for (float x : v) {
        buf.putShort(Float.floatToFloat16(x));
      }
      buf.flip();
      String shard =
          i++ % 2 == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
      (i % 2 == 1 ? a : b)
          .put(
              t.name(),
              new dev.whet.io.TensorData(t.name(), dev.whet.io.DType.F16, t.shape(), buf));
      index
          .append(i > 1 ? "," : "")
          .append('"')
          .append(t.name())
          .append("\": \"")
          .append(shard)
          .append('"');
    }
    index.append("}}");
    dev.whet.io.Safetensors.write(dir.resolve("model-00001-of-00002.safetensors"), a, Map.of());
    dev.whet.io.Safetensors.write(dir.resolve("model-00002-of-00002.safetensors"), b, Map.of());
    java.nio.file.Files.writeString(dir.resolve("model.safetensors.index.json"), index.toString());
    java.nio.file.Files.copy(TINY_STORIES.resolve("config.json"), dir.resolve("config.json"));
    Tensor ids = Tensors.fromLongs(new long[] {1, 400, 35, 700}, 1, 4);
    try (InferenceMode g = new InferenceMode()) {
      float[] full = Tensors.toFloats(LlamaModel.load(TINY_STORIES, null).forward(ids));
      float[] half = Tensors.toFloats(LlamaModel.load(dir, null).forward(ids));
      for (int k = 0; k < full.length; k++) {
        assertEquals(full[k], half[k], 0.05, "logit " + k);
      }
    }
  }

  /**
   * The trainer wraps each step in a PointerScope (DESIGN.md): the model's own tensors (RoPE
   * frequencies, parameters) must survive those scopes.
   */
  @Test
  void trainingStepsInsidePointerScopesKeepTheModelUsable() {
    LlamaModel m = TinyLlama.model(TinyLlama.config(), new Lora(2, 4, 0, List.of("q", "v")), 5);
    Tensor ids = Tensors.fromLongs(new long[] {1, 7, 3, 9}, 1, 4);
    Tensor targets = Tensors.fromLongs(new long[] {7, 3, 9, 4}, 4);
    double first = 0;
    for (int step = 0; step < 3; step++) {
      try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
        Tensor l = loss(m, ids, targets);
        l.backward();
        if (step == 0) {
          first = l.item_double();
        } else {
          assertEquals(first, l.item_double(), 1e-6); // no optimizer: same loss every step
        }
      }
    }
  }

  private static Tensor loss(LlamaModel m, Tensor ids, Tensor targets) {
    Tensor logits = m.forward(ids); // (1, T, V)
    return torch.cross_entropy(logits.view(-1, logits.size(2)), targets);
  }

  private static double[] doubles(Tensor t) {
    Tensor c = t.detach().to(torch.ScalarType.Double).contiguous().view(-1);
    double[] out = new double[(int) c.numel()];
    c.data_ptr_double().get(out);
    return out;
  }

  private static float[] concat(float[] a, float[] b) {
    float[] out = new float[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
