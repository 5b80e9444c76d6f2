#!/usr/bin/python3
"""PyTorch eager reference for Whet's SetFit (`whet train --method setfit`, issue 18), as a Python team
would write it without the setfit library: all-MiniLM-L6-v2 (../shared/bench's plain-PyTorch network and
WordPiece tokenizer), mean pooling, unit vectors. Pairs are drawn as Whet draws them: 20 rounds, in each
every example gets one partner of its label (and, for the cosine loss, one of another label). The encoder
trains one pass over the pairs, batch 32, AdamW (lr 2e-5, weight decay 0.01 off biases and LayerNorm), 10%
warm-up then linear decay, clipping at 1.0, bf16 autocast, under
  ranking: cross-entropy of each anchor against every positive of the batch (cosine x 20), other
           pairs of the anchor's label masked out (they are not negatives), or
  cosine:  MSE of the cosine against 1 (same label) or 0 (different), SetFit's CosineSimilarityLoss.
Then scikit-learn's LogisticRegression on the tuned embeddings, C chosen by 5-fold stratified
cross-validation on macro-F1 over 0.01..100, as Whet's linear probe chooses it. Prints the test macro-F1
of the frozen-embedding probe and of SetFit, and the training time.

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/setfit_ref.py MODEL.onnx TOKENIZER.json \\
        train.jsonl test.jsonl [ranking|cosine]
(JSONL lines {"text", "label"}, e.g. from scripts/make-fewshot.py)
"""
import json, math, os, random, sys, time

import numpy as np, torch, torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold

sys.path.insert(0, os.environ.get("WHET_BENCH", os.path.join(os.path.dirname(__file__), "../../shared/bench")))
import minilm_ref  # noqa: E402

onnx_path, tok_path, train_path, test_path = sys.argv[1:5]
LOSS = sys.argv[5] if len(sys.argv) > 5 else "ranking"
ROUNDS, BATCH, LR = 20, 32, 2e-5
torch.manual_seed(0); random.seed(0); torch.set_num_threads(2)
model, encode = minilm_ref.load(onnx_path, tok_path, 128)
load = lambda p: [json.loads(l) for l in open(p)]
train, test = load(train_path), load(test_path)
labels = sorted({r["label"] for r in train})


def embed(texts):
    ids = [encode(t) for t in texts]; T = max(map(len, ids))
    ids = torch.tensor([x + [0] * (T - len(x)) for x in ids]); mask = (ids != 0).long()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        x = model.hidden(ids, mask).float()
    m = mask[..., None].float()
    return F.normalize((x * m).sum(1) / m.sum(1), dim=-1)


def vectors(rows):
    model.eval()
    with torch.no_grad():
        out = torch.cat([embed([r["text"] for r in rows[i:i + 64]]) for i in range(0, len(rows), 64)])
    model.train()
    return out.numpy()


def probe(x, y, xt, yt):
    grid = GridSearchCV(LogisticRegression(max_iter=1000), {"C": [0.01, 0.1, 1, 10, 100]}, scoring="f1_macro",
                        cv=StratifiedKFold(5, shuffle=True, random_state=0)).fit(x, y)
    return f1_score(yt, grid.predict(xt), average="macro"), grid.best_params_["C"]


y = [r["label"] for r in train]; yt = [r["label"] for r in test]
f1, c = probe(vectors(train), y, vectors(test), yt)
print(f"frozen-embedding linear probe: test macro-F1={f1:.4f} (C={c})", flush=True)

by_label = {}
for i, r in enumerate(train): by_label.setdefault(r["label"], []).append(i)
rng = random.Random(0); pairs = []
for _ in range(ROUNDS):
    for i, r in enumerate(train):
        same = [j for j in by_label[r["label"]] if j != i] or [i]
        pairs.append((r["text"], train[rng.choice(same)]["text"], 1.0, r["label"]))
        if LOSS == "cosine":
            k = rng.choice([j for j in range(len(train)) if train[j]["label"] != r["label"]])
            pairs.append((r["text"], train[k]["text"], 0.0, r["label"]))
random.shuffle(pairs)
steps = math.ceil(len(pairs) / BATCH)
decay = [p for n, p in model.named_parameters() if not ("ln" in n or n.endswith("bias"))]
nodecay = [p for n, p in model.named_parameters() if ("ln" in n or n.endswith("bias"))]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": nodecay, "weight_decay": 0.0}], lr=LR)
warm = int(0.1 * steps)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1, (s + 1) / max(1, warm)) * max(0.0, (steps - s) / max(1, steps - warm)))
model.train(); t0 = time.time()
for i in range(0, len(pairs), BATCH):
    chunk = pairs[i:i + BATCH]
    a, b = embed([p[0] for p in chunk]), embed([p[1] for p in chunk])
    if LOSS == "cosine":
        loss = F.mse_loss((a * b).sum(-1), torch.tensor([p[2] for p in chunk]))
    else:
        group = [p[3] for p in chunk]
        same = torch.tensor([[i != j and group[i] == group[j] for j in range(len(chunk))] for i in range(len(chunk))])
        scores = (a @ b.t() * 20).masked_fill(same, float("-inf"))
        loss = F.cross_entropy(scores, torch.arange(len(chunk)))
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step(); sched.step()
train_time = time.time() - t0
f1, c = probe(vectors(train), y, vectors(test), yt)
print(f"setfit ({LOSS}, {len(pairs)} pairs, {steps} steps): test macro-F1={f1:.4f} (head C={c}) train_time={train_time:.0f}s")
