#!/usr/bin/env python3
# Run with Debian's python3 (python3-torch): /usr/bin/python3 scripts/decode_lower_bound.py [threads]
# PyTorch eager lower bound for one decoding step of SmolLM2-135M's shape: the projections of 30
# layers (q,k,v,o,gate,up,down) and the tied lm_head for a single token, fp32, no attention math.
import sys, time, torch
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
H, I, KV, V, L = 576, 1536, 192, 49152, 30
torch.manual_seed(0)
layers = [dict(q=torch.randn(H, H), k=torch.randn(KV, H), v=torch.randn(KV, H), o=torch.randn(H, H),
               g=torch.randn(I, H), u=torch.randn(I, H), d=torch.randn(H, I)) for _ in range(L)]
emb = torch.randn(V, H)
F = torch.nn.functional
def step(x):
    for w in layers:
        q = F.linear(x, w['q']); k = F.linear(x, w['k']); v = F.linear(x, w['v'])
        x = x + F.linear(q, w['o'])
        x = x + F.linear(F.silu(F.linear(x, w['g'])) * F.linear(x, w['u']), w['d'])
        x = x / x.norm()
    return F.linear(x, emb)
with torch.inference_mode():
    x = torch.randn(1, 1, H)
    for _ in range(3): step(x)
    t = time.perf_counter(); n = 20
    for _ in range(n): step(x)
    ms = (time.perf_counter() - t) / n * 1000
print(f"torch {torch.__version__} threads={torch.get_num_threads()} ms/token={ms:.1f} tokens/s={1000/ms:.1f}")
