#!/usr/bin/python3
"""Reference for `whet bench train --base <decoder>`: one LoRA supervised fine-tuning step of a
Llama-family decoder in PyTorch eager on the CPU, what a Python team would run instead (PEFT's
layer, written out: Debian's PyTorch has no PEFT). Same conventions as ../shared/bench/torch_ref.py.

Usage (Debian's python3 with python3-torch):
  /usr/bin/python3 scripts/lora_sft_ref.py CONFIG.json [batch] [seq] [steps] [threads] [fp32|bf16]
CONFIG.json: a Hugging Face Llama-family config (e.g. SmolLM2-135M's). Random weights, random tokens,
loss on every next token, LoRA rank 8 (alpha 16) on q, k, v, o, gate, up, down, AdamW on the adapters.
bf16: the frozen base stored in bf16 and torch.autocast('cpu', bfloat16) around forward and loss, the
adapters and their optimizer state in fp32 (the recipe `whet train --task sft --precision bf16` follows).
Prints ms/step and tokens/s of the median step after one warm-up.
"""
import json, math, statistics, sys, time
import torch, torch.nn as nn, torch.nn.functional as F

RANK, ALPHA = 8, 16.0


class LoraLinear(nn.Module):
    def __init__(s, i, o, bias):
        super().__init__()
        s.base = nn.Linear(i, o, bias=bias)
        s.a = nn.Parameter(torch.empty(RANK, i).uniform_(-1 / math.sqrt(i), 1 / math.sqrt(i)))
        s.b = nn.Parameter(torch.zeros(o, RANK))
    def forward(s, x):
        return s.base(x) + F.linear(F.linear(x, s.a), s.b) * (ALPHA / RANK)


class RmsNorm(nn.Module):
    def __init__(s, h, eps):
        super().__init__()
        s.weight, s.eps = nn.Parameter(torch.ones(h)), eps
    def forward(s, x):  # as Hugging Face's LlamaRMSNorm
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + s.eps)
        return s.weight * x.to(dtype)


def rotate_half(x):
    a, b = x.chunk(2, dim=-1)
    return torch.cat((-b, a), dim=-1)


class Layer(nn.Module):
    def __init__(s, c):
        super().__init__()
        h, s.nh, s.nkv = c["hidden_size"], c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
        s.d = c.get("head_dim", h // s.nh)
        bias = c["model_type"] == "qwen2"
        s.q, s.k, s.v = LoraLinear(h, s.nh * s.d, bias), LoraLinear(h, s.nkv * s.d, bias), LoraLinear(h, s.nkv * s.d, bias)
        s.o = LoraLinear(s.nh * s.d, h, False)
        i = c["intermediate_size"]
        s.gate, s.up, s.down = LoraLinear(h, i, False), LoraLinear(h, i, False), LoraLinear(i, h, False)
        eps = c.get("rms_norm_eps", 1e-6)
        s.n1, s.n2 = RmsNorm(h, eps), RmsNorm(h, eps)
    def forward(s, x, cos, sin, causal):
        b, t, _ = x.shape
        h = s.n1(x)
        q = s.q(h).view(b, t, s.nh, s.d).transpose(1, 2)
        k = s.k(h).view(b, t, s.nkv, s.d).transpose(1, 2)
        v = s.v(h).view(b, t, s.nkv, s.d).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(s.nh // s.nkv, dim=1)
        v = v.repeat_interleave(s.nh // s.nkv, dim=1)
        a = (q @ k.transpose(-1, -2) / math.sqrt(s.d)).masked_fill(~causal, float("-inf"))
        a = a.softmax(-1) @ v
        x = x + s.o(a.transpose(1, 2).reshape(b, t, s.nh * s.d))
        h = s.n2(x)
        return x + s.down(F.silu(s.gate(h)) * s.up(h))


class Model(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.c = c
        s.embed = nn.Embedding(c["vocab_size"], c["hidden_size"])
        s.layers = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))
        s.norm = RmsNorm(c["hidden_size"], c.get("rms_norm_eps", 1e-6))
        s.head = None if c.get("tie_word_embeddings", False) else nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
    def forward(s, ids):
        t = ids.shape[1]
        d = s.layers[0].d
        inv = 1.0 / (s.c.get("rope_theta", 10000.0) ** (torch.arange(0, d, 2).double() / d))
        f = torch.arange(t).double()[:, None] * inv[None, :]
        emb = torch.cat((f, f), -1)
        x = s.embed(ids)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        causal = torch.ones(t, t, dtype=torch.bool).tril()
        for l in s.layers:
            x = l(x, cos, sin, causal)
        x = s.norm(x)
        return F.linear(x, s.embed.weight if s.head is None else s.head.weight)


if __name__ == "__main__":
    c = json.load(open(sys.argv[1]))
    B = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    T = int(sys.argv[3]) if len(sys.argv) > 3 else 128
    STEPS = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    torch.set_num_threads(int(sys.argv[5]) if len(sys.argv) > 5 else 2)
    PREC = sys.argv[6] if len(sys.argv) > 6 else "fp32"
    torch.manual_seed(0)
    model = Model(c).train()
    adapters = [p for n, p in model.named_parameters() if n.endswith((".a", ".b"))]
    for n, p in model.named_parameters():
        if not n.endswith((".a", ".b")):
            p.requires_grad_(False)
            if PREC == "bf16":
                p.data = p.data.to(torch.bfloat16)
    opt = torch.optim.AdamW(adapters, lr=1e-4, weight_decay=0.0)
    ids = torch.randint(0, c["vocab_size"], (B, T))
    def step():
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=PREC == "bf16"):
            logits = model(ids)
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).float(), ids[:, 1:].reshape(-1))
        loss.backward()
        opt.step()
    step()
    times = []
    for _ in range(STEPS):
        t0 = time.perf_counter(); step(); times.append(time.perf_counter() - t0)
    dt = statistics.median(times)
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in adapters)
    print(f"torch {torch.__version__} {PREC} threads={torch.get_num_threads()} batch={B} seq={T} "
          f"params={total/1e6:.1f}M trainable={trainable/1e6:.2f}M: {dt*1000:.0f} ms/step, {B*T/dt:.0f} tokens/s")
