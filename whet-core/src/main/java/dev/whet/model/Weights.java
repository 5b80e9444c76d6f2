package dev.whet.model;

import dev.whet.WhetException;
import dev.whet.engine.Tensors;
import dev.whet.io.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Moves named tensors between safetensors data and a module's parameters, by Hugging Face name. */
public final class Weights {
  private Weights() {}

  /** A libtorch tensor (float32 for floating dtypes) holding a copy of the data. */
  public static Tensor toTensor(TensorData d) {
    ScalarType type =
        switch (d.dtype()) {
          case F32 -> ScalarType.Float;
          case F16 -> ScalarType.Half;
          case BF16 -> ScalarType.BFloat16;
          case F64 -> ScalarType.Double;
          case I64 -> ScalarType.Long;
          case I32 -> ScalarType.Int;
          case I16 -> ScalarType.Short;
          case I8 -> ScalarType.Char;
          case U8 -> ScalarType.Byte;
          case BOOL -> ScalarType.Bool;
        };
    ByteBuffer src = d.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer direct =
        src.isDirect() ? src : ByteBuffer.allocateDirect(src.remaining()).put(src).flip();
    try (BytePointer p = new BytePointer(direct)) {
      Tensor t = torch.from_blob(p, d.shape(), new TensorOptions(type)).clone();
      boolean floating =
          type == ScalarType.Half || type == ScalarType.BFloat16 || type == ScalarType.Double;
      return floating ? t.to(ScalarType.Float) : t;
    }
  }

  /** The module's tensor as float32 safetensors data under {@code name}. */
  public static TensorData toData(String name, Tensor t) {
    float[] values = Tensors.toFloats(t);
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return new TensorData(name, dev.whet.io.DType.F32, Tensors.shape(t), b);
  }

  /**
   * Stores every frozen floating-point parameter of {@code m} (those that do not require a
   * gradient, such as a base model's weights under LoRA) in {@code type}, in place: Java's handles
   * on them see the new data, and the old storage is freed. Trainable parameters keep their fp32
   * master copy.
   *
   * @return the number of parameters converted
   */
  public static long storeFrozenIn(Module m, ScalarType type) {
    long converted = 0;
    try (NoGradGuard g = new NoGradGuard()) {
      for (Tensor p : parameters(m).values()) {
        if (!p.requires_grad() && p.is_floating_point() && p.scalar_type().intern() != type) {
          p.__dispatch_set_data(p.to(type));
          converted += p.numel();
        }
      }
    }
    return converted;
  }

  /** All parameters of a module, keyed by name, in registration order. */
  public static Map<String, Tensor> parameters(Module m) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    StringTensorDict dict = m.named_parameters(true);
    for (long i = 0; i < dict.size(); i++) {
      out.put(dict.get(i).key().getString(), Tensors.own(dict.get(i).value()));
    }
    return out;
  }

  /**
   * Copies {@code tensors} into the module's parameters. Names may carry one of {@code prefixes}
   * (e.g. {@code bert.} in a {@code BertForSequenceClassification} checkpoint). Every parameter
   * except LoRA adapters must be present with the right shape; extra tensors are returned so
   * callers can decide (heads, poolers).
   */
  public static Map<String, TensorData> load(
      Module module, Map<String, TensorData> tensors, List<String> prefixes, Path source) {
    Map<String, TensorData> byName = new LinkedHashMap<>();
    for (TensorData t : tensors.values()) {
      byName.put(stripPrefix(t.name(), prefixes), t);
    }
    TreeSet<String> missing = new TreeSet<>();
    // The loaded copies are temporaries: freed here, not when the garbage collector runs.
    try (PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      Map<String, Tensor> params = parameters(module);
      for (Map.Entry<String, Tensor> p : params.entrySet()) {
        TensorData d = byName.remove(p.getKey());
        if (d == null) {
          // A base checkpoint has no adapters: they keep their fresh initialisation (B = 0).
          if (!p.getKey().contains(".lora_")) {
            missing.add(p.getKey());
          }
          continue;
        }
        long[] want = Tensors.shape(p.getValue());
        if (!Arrays.equals(want, d.shape())) {
          throw new WhetException(
              source
                  + ": tensor '"
                  + d.name()
                  + "' has shape "
                  + Arrays.toString(d.shape())
                  + " but config.json implies "
                  + Arrays.toString(want));
        }
        p.getValue().copy_(toTensor(d));
      }
    }
    if (!missing.isEmpty()) {
      throw new WhetException(
          source
              + ": missing "
              + missing.size()
              + " tensor(s) the model needs, e.g. '"
              + missing.first()
              + "' (is this the right model directory?)");
    }
    return byName;
  }

  static String stripPrefix(String name, List<String> prefixes) {
    for (String p : prefixes) {
      if (name.startsWith(p)) {
        return name.substring(p.length());
      }
    }
    return name;
  }
}
