#!/usr/bin/python3
"""PyTorch eager reference for Whet's sentence-similarity fine-tuning (issue 18): the recipe of
`whet train --task similarity` on all-MiniLM-L6-v2, as a Python team would write it without
sentence-transformers: mean pooling, cosine of the two embeddings regressed on score / 5 (MSE, as
sentence-transformers' CosineSimilarityLoss), batch 32, AdamW (lr 5e-5, weight decay 0.01 off biases and
LayerNorm), 10% warm-up then linear decay, clipping at 1.0, bf16 autocast when asked, 128 tokens.
The encoder and tokenizer are ../shared/bench's plain-PyTorch all-MiniLM-L6-v2. Prints the Spearman
correlation of the test pairs before training and after each epoch, with the training time.

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/sts_ref.py MODEL.onnx TOKENIZER.json \\
        train.jsonl test.jsonl [epochs] [bf16|fp32]
(JSONL lines {"sentence1", "sentence2", "score"})
"""
import json, math, os, random, sys, time

import torch, torch.nn.functional as F

sys.path.insert(0, os.environ.get("WHET_BENCH", os.path.join(os.path.dirname(__file__), "../../shared/bench")))
import minilm_ref  # noqa: E402

onnx_path, tok_path, train_path, test_path = sys.argv[1:5]
EPOCHS = int(sys.argv[5]) if len(sys.argv) > 5 else 3
BF16 = (sys.argv[6] if len(sys.argv) > 6 else "bf16") == "bf16"
torch.manual_seed(0); random.seed(0); torch.set_num_threads(2)
model, encode = minilm_ref.load(onnx_path, tok_path, 128)
load = lambda p: [json.loads(l) for l in open(p)]
train, test = load(train_path), load(test_path)
scale = max(r["score"] for r in train)


def rank(x):
    order = sorted(range(len(x)), key=lambda i: x[i]); r = [0.0] * len(x); i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and x[order[j + 1]] == x[order[i]]: j += 1
        for k in range(i, j + 1): r[order[k]] = (i + j) / 2
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = rank(a), rank(b); ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    return cov / math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))


def pad(texts):
    ids = [encode(t) for t in texts]; T = max(map(len, ids))
    ids = torch.tensor([x + [0] * (T - len(x)) for x in ids])
    return ids, (ids != 0).long()


def embed(texts):
    ids, mask = pad(texts)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=BF16):
        x = model.hidden(ids, mask).float()
    m = mask[..., None].float()
    return F.normalize((x * m).sum(1) / m.sum(1), dim=-1)


def evaluate():
    model.eval(); cos = []
    with torch.no_grad():
        for i in range(0, len(test), 64):
            chunk = test[i:i + 64]
            cos += (embed([r["sentence1"] for r in chunk]) * embed([r["sentence2"] for r in chunk])).sum(-1).tolist()
    model.train()
    return spearman(cos, [r["score"] for r in test])


print(f"base: test spearman={evaluate():.4f}", flush=True)
model.train()
steps = EPOCHS * math.ceil(len(train) / 32)
decay = [p for n, p in model.named_parameters() if not ("ln" in n or n.endswith("bias"))]
nodecay = [p for n, p in model.named_parameters() if ("ln" in n or n.endswith("bias"))]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": nodecay, "weight_decay": 0.0}], lr=5e-5)
warm = int(0.1 * steps)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1, (s + 1) / max(1, warm)) * max(0.0, (steps - s) / max(1, steps - warm)))
train_time = 0.0
for ep in range(EPOCHS):
    random.shuffle(train); t0 = time.time()
    for i in range(0, len(train), 32):
        chunk = train[i:i + 32]
        cos = (embed([r["sentence1"] for r in chunk]) * embed([r["sentence2"] for r in chunk])).sum(-1)
        loss = F.mse_loss(cos, torch.tensor([r["score"] / scale for r in chunk]))
        opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step(); sched.step()
    train_time += time.time() - t0
    print(f"epoch {ep + 1}: test spearman={evaluate():.4f} train_time={train_time:.0f}s", flush=True)
print(f"{steps} steps, {'bf16' if BF16 else 'fp32'}, train_time={train_time:.0f}s")
