"""Reference hidden states for Whet's RoBERTa-family encoders, from an independent plain-numpy
(float64) implementation of the published architecture (Liu et al. 2019, RoBERTa; Conneau et al.
2020, XLM-R; Hugging Face's config.json and parameter names): BERT's post-LayerNorm transformer
with RoBERTa's positions, which count only real tokens and start after the padding id
(padding_idx + 1), and GELU with erf. Nothing here imports Whet, PyTorch or Transformers.

    cd whet-core/src/test/resources/models/encoder-reference && /usr/bin/python3 make_encoder_fixtures.py

Writes roberta-tiny/ and xlm-roberta-tiny/ (config.json, random weights in model.safetensors) and
encoder_hidden.json: per model, two token sequences (the second padded) and the last hidden states.
"""
import json
import math
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ERF = np.vectorize(math.erf)


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


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def hidden_states(c, w, ids):
    """Last hidden states (T, H) of one sequence; padding tokens are masked out as keys."""
    ids = np.asarray(ids)
    pad, eps = c["pad_token_id"], c["layer_norm_eps"]
    heads = c["num_attention_heads"]
    h = c["hidden_size"]
    d = h // heads
    real = ids != pad
    positions = np.cumsum(real) * real + pad  # real tokens count from pad + 1, padding sits at pad
    e = "roberta.embeddings."
    x = (w[e + "word_embeddings.weight"][ids] + w[e + "position_embeddings.weight"][positions]
         + w[e + "token_type_embeddings.weight"][0])
    x = layer_norm(x, w[e + "LayerNorm.weight"], w[e + "LayerNorm.bias"], eps)
    t = len(ids)
    for layer in range(c["num_hidden_layers"]):
        p = "roberta.encoder.layer.%d." % layer

        def dense(name, v):
            return v @ w[p + name + ".weight"].T + w[p + name + ".bias"]

        q = dense("attention.self.query", x).reshape(t, heads, d)
        k = dense("attention.self.key", x).reshape(t, heads, d)
        v = dense("attention.self.value", x).reshape(t, heads, d)
        ctx = np.empty((t, heads, d))
        for head in range(heads):
            s = q[:, head] @ k[:, head].T / np.sqrt(d)
            s = np.where(real[None, :], s, -np.inf)
            s = np.exp(s - s.max(-1, keepdims=True))
            ctx[:, head] = (s / s.sum(-1, keepdims=True)) @ v[:, head]
        a = dense("attention.output.dense", ctx.reshape(t, h))
        x = layer_norm(x + a, w[p + "attention.output.LayerNorm.weight"],
                       w[p + "attention.output.LayerNorm.bias"], eps)
        inner = dense("intermediate.dense", x)
        inner = 0.5 * inner * (1 + ERF(inner / math.sqrt(2)))
        x = layer_norm(x + dense("output.dense", inner), w[p + "output.LayerNorm.weight"],
                       w[p + "output.LayerNorm.bias"], eps)
    return x


def random_model(c, rng):
    h, f = c["hidden_size"], c["intermediate_size"]
    e = "roberta.embeddings."
    w = {e + "word_embeddings.weight": rng.normal(0, 0.5, (c["vocab_size"], h)),
         e + "position_embeddings.weight": rng.normal(0, 0.5, (c["max_position_embeddings"], h)),
         e + "token_type_embeddings.weight": rng.normal(0, 0.5, (c["type_vocab_size"], h)),
         e + "LayerNorm.weight": 1 + rng.normal(0, 0.1, h), e + "LayerNorm.bias": rng.normal(0, 0.1, h)}
    for layer in range(c["num_hidden_layers"]):
        p = "roberta.encoder.layer.%d." % layer
        for name, rows, cols in [("attention.self.query", h, h), ("attention.self.key", h, h),
                                 ("attention.self.value", h, h), ("attention.output.dense", h, h),
                                 ("intermediate.dense", f, h), ("output.dense", h, f)]:
            w[p + name + ".weight"] = rng.normal(0, 0.15, (rows, cols))
            w[p + name + ".bias"] = rng.normal(0, 0.1, rows)
        for name in ["attention.output.LayerNorm", "output.LayerNorm"]:
            w[p + name + ".weight"] = 1 + rng.normal(0, 0.1, h)
            w[p + name + ".bias"] = rng.normal(0, 0.1, h)
    return {k: a.astype(np.float32).astype(np.float64) for k, a in w.items()}


def config(model_type, architecture):
    return {"architectures": [architecture], "model_type": model_type, "vocab_size": 250,
            "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
            "intermediate_size": 64, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 40,
            "type_vocab_size": 1, "layer_norm_eps": 1e-5, "pad_token_id": 1,
            "bos_token_id": 0, "eos_token_id": 2}


def main():
    rng = np.random.default_rng(23)
    out = {"numpy": np.__version__, "models": {}}
    for name, c in [("roberta-tiny", config("roberta", "RobertaModel")),
                    ("xlm-roberta-tiny", config("xlm-roberta", "XLMRobertaModel"))]:
        d = os.path.join(HERE, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(c, f, indent=2)
        w = random_model(c, rng)
        write_safetensors(os.path.join(d, "model.safetensors"), w)
        first = [0] + rng.integers(3, c["vocab_size"], 14).tolist() + [2]
        second = [0] + rng.integers(3, c["vocab_size"], 8).tolist() + [2] + [c["pad_token_id"]] * 6
        out["models"][name] = {
            "dir": "models/encoder-reference/" + name, "ids": [first, second],
            "hidden": [[[float("%.9g" % v) for v in row] for row in hidden_states(c, w, s)]
                       for s in (first, second)]}
    with open(os.path.join(HERE, "encoder_hidden.json"), "w") as f:
        json.dump(out, f)
    print("written with numpy", np.__version__)


if __name__ == "__main__":
    main()
