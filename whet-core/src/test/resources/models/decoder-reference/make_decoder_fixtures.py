"""Reference logits for Whet's decoder, from an independent plain-numpy (float64) implementation of
the published Llama architecture (Touvron et al. 2023; Hugging Face's config.json conventions):
RMSNorm, rotary embeddings on the two halves of each head (rotate_half), grouped-query attention
with a causal mask, a SiLU-gated MLP, tied or separate output projection; Qwen2's q/k/v biases; and
Llama 3.1's rope_scaling ("llama3": frequencies with a wavelength beyond
original_max_position_embeddings / low_freq_factor divided by factor, those below
original_max_position_embeddings / high_freq_factor kept, the band between interpolated).
Nothing here imports Whet, PyTorch or Transformers.

    cd whet-core/src/test/resources/models/decoder-reference && /usr/bin/python3 make_decoder_fixtures.py

Writes qwen2-tiny/ and llama3-rope-tiny/ (config.json and random weights in model.safetensors) and
decoder_logits.json: for each model, the input ids and the logits at the listed positions.
"""
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", (name, e["dtype"])
        b, t = e["data_offsets"]
        out[name] = np.frombuffer(data[b:t], dtype="<f4").reshape(e["shape"]).astype(np.float64)
    return out


def write_safetensors(path, tensors):
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name in sorted(tensors):
        raw = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def inverse_frequencies(c, d):
    inv = 1.0 / c.get("rope_theta", 10000.0) ** (np.arange(0, d, 2) / d)
    s = c.get("rope_scaling")
    if not s:
        return inv
    assert s["rope_type"] == "llama3"
    factor, low, high = s["factor"], s["low_freq_factor"], s["high_freq_factor"]
    original = s["original_max_position_embeddings"]
    wavelength = 2 * np.pi / inv
    out = np.empty_like(inv)
    for i, (f, w) in enumerate(zip(inv, wavelength)):
        if w < original / high:
            out[i] = f  # short wavelengths: unchanged
        elif w > original / low:
            out[i] = f / factor  # long wavelengths: slowed down by factor
        else:
            t = (original / w - low) / (high - low)  # 0 at the long end, 1 at the short end
            out[i] = (1 - t) * f / factor + t * f
    return out


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def rotate(x, cos, sin):  # x: (T, heads, d); the first half pairs with the second
    half = x.shape[-1] // 2
    turned = np.concatenate([-x[..., half:], x[..., :half]], -1)
    return x * cos[:, None, :] + turned * sin[:, None, :]


def logits(c, w, ids):
    h, heads = c["hidden_size"], c["num_attention_heads"]
    kv = c.get("num_key_value_heads", heads)
    d = c.get("head_dim", h // heads)
    eps = c.get("rms_norm_eps", 1e-6)
    bias = c["model_type"] == "qwen2" or c.get("attention_bias", False)
    t = len(ids)
    angles = np.arange(t)[:, None] * inverse_frequencies(c, d)[None, :]
    angles = np.concatenate([angles, angles], -1)
    cos, sin = np.cos(angles), np.sin(angles)
    causal = np.tril(np.ones((t, t), dtype=bool))
    x = w["model.embed_tokens.weight"][ids]
    for layer in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % layer
        a = rms_norm(x, w[p + "input_layernorm.weight"], eps)

        def proj(name, n):
            y = a @ w[p + "self_attn.%s_proj.weight" % name].T
            if bias:
                y = y + w[p + "self_attn.%s_proj.bias" % name]
            return y.reshape(t, n, d)

        q = rotate(proj("q", heads), cos, sin)
        k = rotate(proj("k", kv), cos, sin)
        v = proj("v", kv)
        out = np.empty((t, heads, d))
        for head in range(heads):
            g = head // (heads // kv)  # the key/value head this query head shares
            s = q[:, head, :] @ k[:, g, :].T / np.sqrt(d)
            s = np.where(causal, s, -np.inf)
            s = np.exp(s - s.max(-1, keepdims=True))
            out[:, head, :] = (s / s.sum(-1, keepdims=True)) @ v[:, g, :]
        o = out.reshape(t, heads * d) @ w[p + "self_attn.o_proj.weight"].T
        if c.get("attention_bias", False):
            o = o + w[p + "self_attn.o_proj.bias"]
        x = x + o
        m = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = m @ w[p + "mlp.gate_proj.weight"].T
        up = m @ w[p + "mlp.up_proj.weight"].T
        x = x + (gate / (1 + np.exp(-gate)) * up) @ w[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if c.get("tie_word_embeddings") else w["lm_head.weight"]
    return x @ head.T


def random_model(c, rng):
    h, heads = c["hidden_size"], c["num_attention_heads"]
    kv = c.get("num_key_value_heads", heads)
    d = c.get("head_dim", h // heads)
    f, v = c["intermediate_size"], c["vocab_size"]
    bias = c["model_type"] == "qwen2"
    w = {"model.embed_tokens.weight": rng.normal(0, 0.5, (v, h)),
         "model.norm.weight": 1 + rng.normal(0, 0.1, h)}
    if not c.get("tie_word_embeddings"):
        w["lm_head.weight"] = rng.normal(0, 0.1, (v, h))
    for layer in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % layer
        for name, rows in [("q", heads * d), ("k", kv * d), ("v", kv * d)]:
            w[p + "self_attn.%s_proj.weight" % name] = rng.normal(0, 0.15, (rows, h))
            if bias:
                w[p + "self_attn.%s_proj.bias" % name] = rng.normal(0, 0.1, rows)
        w[p + "self_attn.o_proj.weight"] = rng.normal(0, 0.15, (h, heads * d))
        w[p + "mlp.gate_proj.weight"] = rng.normal(0, 0.15, (f, h))
        w[p + "mlp.up_proj.weight"] = rng.normal(0, 0.15, (f, h))
        w[p + "mlp.down_proj.weight"] = rng.normal(0, 0.1, (h, f))
        w[p + "input_layernorm.weight"] = 1 + rng.normal(0, 0.1, h)
        w[p + "post_attention_layernorm.weight"] = 1 + rng.normal(0, 0.1, h)
    # Stored as float32: the reference computes in float64 from exactly the stored values.
    return {k: a.astype(np.float32).astype(np.float64) for k, a in w.items()}


CONFIGS = {
    "qwen2-tiny": {
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 64,
        "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
        "max_position_embeddings": 128, "vocab_size": 300, "tie_word_embeddings": False,
        "hidden_act": "silu", "use_sliding_window": False, "sliding_window": 128,
        "bos_token_id": 1, "eos_token_id": 2},
    "llama3-rope-tiny": {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
        "intermediate_size": 160, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 1, "head_dim": 16, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
        "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 32},
        "max_position_embeddings": 256, "vocab_size": 280, "tie_word_embeddings": True,
        "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2},
}


def main():
    rng = np.random.default_rng(17)
    out = {"numpy": np.__version__, "models": {}}
    for name, c in CONFIGS.items():
        d = os.path.join(HERE, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(c, f, indent=2)
        w = random_model(c, rng)
        write_safetensors(os.path.join(d, "model.safetensors"), w)
        ids = rng.integers(0, c["vocab_size"], 24).tolist()
        z = logits(c, w, ids)
        out["models"][name] = {"dir": "models/decoder-reference/" + name, "ids": ids,
                               "positions": list(range(24)),
                               "logits": [[float("%.9g" % v) for v in row] for row in z]}
    tiny = os.path.join(HERE, "..", "TinyStories-656K-hf")
    with open(os.path.join(tiny, "config.json")) as f:
        c = json.load(f)
    ids = [1] + rng.integers(3, c["vocab_size"], 31).tolist()
    w = read_safetensors(os.path.join(tiny, "model.safetensors"))
    # A tied checkpoint stores the shared matrix once; this one under lm_head.weight.
    w.setdefault("model.embed_tokens.weight", w.get("lm_head.weight"))
    z = logits(c, w, ids)
    positions = [0, 15, 31]
    out["models"]["TinyStories-656K"] = {
        "dir": "models/TinyStories-656K-hf", "ids": ids, "positions": positions,
        "logits": [[float("%.9g" % v) for v in z[p]] for p in positions]}
    with open(os.path.join(HERE, "decoder_logits.json"), "w") as f:
        json.dump(out, f)
    print("written with numpy", np.__version__)


if __name__ == "__main__":
    main()
