#!/usr/bin/python3
"""DPO on a tiny decoder with LoRA, in plain PyTorch (float64), as an independent reference for Whet's
DpoTask: the published Llama/Qwen2 forward pass (RMSNorm, rotary embeddings on the two halves of each
head, grouped-query attention with a causal mask, SiLU-gated MLP, Qwen2's q/k/v biases) written out
here, LoRA adapters on the q and v projections (W x + alpha/r * B A x, PEFT's layer), and the DPO
sigmoid loss with the reference policy being the same weights with the adapters off. Writes
dpo_decoder_fixture.json: the pairs' token ids and labels (prompt tokens -100), the adapters, the
reference and policy sequence log-probabilities, the loss, and the loss's gradient with respect to
every adapter matrix. Nothing here imports Whet or Transformers.

    cd whet-core/src/test/resources/dpo && /usr/bin/python3 make_dpo_decoder_fixture.py
"""
import json
import os
import struct

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "..", "models", "decoder-reference", "qwen2-tiny")
RANK, ALPHA, BETA = 4, 8.0, 0.1
torch.manual_seed(20)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, t = e["data_offsets"]
        a = np.frombuffer(data[b:t], dtype="<f4").reshape(e["shape"]).astype(np.float64)
        out[name] = torch.tensor(a)
    return out


def rms_norm(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rotate(x, cos, sin):  # x: (T, heads, d)
    half = x.shape[-1] // 2
    turned = torch.cat([-x[..., half:], x[..., :half]], -1)
    return x * cos[:, None, :] + turned * sin[:, None, :]


def logits(c, w, lora, ids, adapters_on):
    h, heads = c["hidden_size"], c["num_attention_heads"]
    kv, d, eps = c["num_key_value_heads"], h // heads, c["rms_norm_eps"]
    t = len(ids)
    inv = 1.0 / c["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
    angles = torch.arange(t, dtype=torch.float64)[:, None] * inv[None, :]
    angles = torch.cat([angles, angles], -1)
    cos, sin = torch.cos(angles), torch.sin(angles)
    causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
    x = w["model.embed_tokens.weight"][ids]
    scaling = ALPHA / RANK
    for layer in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % layer
        a = rms_norm(x, w[p + "input_layernorm.weight"], eps)

        def proj(name, n):
            key = p + "self_attn.%s_proj" % name
            y = a @ w[key + ".weight"].T + w[key + ".bias"]
            if adapters_on and key in lora:
                A, B = lora[key]
                y = y + scaling * (a @ A.T) @ B.T
            return y.reshape(t, n, d)

        q = rotate(proj("q", heads), cos, sin)
        k = rotate(proj("k", kv), cos, sin)
        v = proj("v", kv)
        outs = []
        for head in range(heads):
            g = head // (heads // kv)
            s = q[:, head, :] @ k[:, g, :].T / d ** 0.5
            s = s.masked_fill(~causal, float("-inf"))
            outs.append(torch.softmax(s, -1) @ v[:, g, :])
        o = torch.stack(outs, 1).reshape(t, heads * d) @ w[p + "self_attn.o_proj.weight"].T
        x = x + o
        m = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = m @ w[p + "mlp.gate_proj.weight"].T
        up = m @ w[p + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(gate) * up) @ w[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], eps)
    return x @ w["lm_head.weight"].T


def log_prob(c, w, lora, ids, labels, adapters_on):
    z = torch.log_softmax(logits(c, w, lora, ids, adapters_on), -1)
    total = torch.zeros((), dtype=torch.float64)
    for t in range(len(ids) - 1):  # position t predicts token t + 1
        if labels[t + 1] != -100:
            total = total + z[t, labels[t + 1]]
    return total


def sequence(prompt, answer):
    ids = prompt + answer
    return ids, [-100] * len(prompt) + answer


def main():
    with open(os.path.join(MODEL, "config.json")) as f:
        c = json.load(f)
    w = read_safetensors(os.path.join(MODEL, "model.safetensors"))
    h, kv, d = c["hidden_size"], c["num_key_value_heads"], c["hidden_size"] // c["num_attention_heads"]
    lora = {}
    for layer in range(c["num_hidden_layers"]):
        for name, out in (("q", h), ("v", kv * d)):
            A = (0.2 * torch.randn(RANK, h, dtype=torch.float64)).requires_grad_(True)
            B = (0.2 * torch.randn(out, RANK, dtype=torch.float64)).requires_grad_(True)
            lora["model.layers.%d.self_attn.%s_proj" % (layer, name)] = (A, B)
    rng = np.random.default_rng(20)
    V = c["vocab_size"]
    pairs = []
    for prompt_len, chosen_len, rejected_len in ((3, 6, 5), (4, 3, 7), (2, 5, 5)):
        prompt = rng.integers(3, V, prompt_len).tolist()
        pairs.append((sequence(prompt, rng.integers(3, V, chosen_len).tolist()),
                      sequence(prompt, rng.integers(3, V, rejected_len).tolist())))
    ref, pol = [], []
    for chosen, rejected in pairs:
        with torch.no_grad():
            ref.append([log_prob(c, w, lora, *s, False).item() for s in (chosen, rejected)])
        pol.append([log_prob(c, w, lora, *s, True) for s in (chosen, rejected)])
    margins = torch.stack([BETA * ((pc - rc) - (pr - rr)) for (pc, pr), (rc, rr) in zip(pol, ref)])
    loss = -torch.nn.functional.logsigmoid(margins).mean()
    loss.backward()
    out = {
        "torch": torch.__version__, "model": "models/decoder-reference/qwen2-tiny",
        "rank": RANK, "alpha": ALPHA, "beta": BETA, "targets": ["q", "v"],
        "pairs": [{"chosen_ids": ch[0], "chosen_labels": ch[1],
                   "rejected_ids": rj[0], "rejected_labels": rj[1]} for ch, rj in pairs],
        "reference_log_probs": ref,
        "policy_log_probs": [[p.item() for p in pr] for pr in pol],
        "loss": loss.item(),
        "adapters": {k: {"lora_A": A.detach().tolist(), "lora_B": B.detach().tolist()}
                     for k, (A, B) in lora.items()},
        "gradients": {k: {"lora_A": A.grad.tolist(), "lora_B": B.grad.tolist()}
                      for k, (A, B) in lora.items()},
    }
    with open(os.path.join(HERE, "dpo_decoder_fixture.json"), "w") as f:
        json.dump(out, f)
    print("loss", loss.item(), "written with torch", torch.__version__)


main()
