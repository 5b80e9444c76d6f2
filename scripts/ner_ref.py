#!/usr/bin/python3
"""PyTorch eager reference for Whet's token classification (issue 18): the recipe of
`whet train --task tokens` on all-MiniLM-L6-v2, written as a Python team would without Transformers.

The encoder and WordPiece tokenizer are ../shared/bench's plain-PyTorch all-MiniLM-L6-v2 (weights read
from the ONNX file the Maven artifact ships); each CoNLL word is tokenized on its own and its tag goes on
its first sub-token (the rest are ignored by the loss, -100). Recipe as Whet's defaults for this data:
batch 32, AdamW (lr 5e-5, weight decay 0.01 off biases and LayerNorm), 10% warm-up then linear decay,
clipping at 1.0, dropout 0.1, bf16 autocast when asked, sentences cut at 128 tokens. Prints strict IOB2
entity F1 (seqeval's strict mode) on the dev file after each epoch and on the test file at the end,
with the training time.

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/ner_ref.py MODEL.onnx TOKENIZER.json \\
        train.conll dev.conll test.conll [epochs] [bf16|fp32]
"""
import math, os, random, sys, time

import torch, torch.nn as nn, torch.nn.functional as F

sys.path.insert(0, os.environ.get("WHET_BENCH", os.path.join(os.path.dirname(__file__), "../../shared/bench")))
import minilm_ref  # noqa: E402
from torch_ref import H  # noqa: E402

onnx_path, tok_path, train_path, dev_path, test_path = sys.argv[1:6]
EPOCHS = int(sys.argv[6]) if len(sys.argv) > 6 else 5
BF16 = (sys.argv[7] if len(sys.argv) > 7 else "bf16") == "bf16"
MAXLEN, BATCH, LR = 128, 32, 5e-5
torch.manual_seed(0); random.seed(0); torch.set_num_threads(2)


def conll(path):
    out, cur = [], []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip():
            if cur: out.append(cur)
            cur = []
        else:
            word, tag = line.split("\t")[0], line.split("\t")[-1]
            cur.append((word, tag))
    if cur: out.append(cur)
    return out


def entities(tags):
    """Strict IOB2: B-T then I-T of the same type; anything else ends the entity."""
    out, start, typ = set(), None, None
    for i, t in enumerate(tags + ["O"]):
        if typ is not None and not (t.startswith("I-") and t[2:] == typ):
            out.add((typ, start, i)); typ = None
        if t.startswith("B-"):
            start, typ = i, t[2:]
    return out


def f1(gold, pred):
    tp = p = g = 0
    for a, b in zip(gold, pred):
        ga, pb = entities(a), entities(b)
        tp += len(ga & pb); p += len(pb); g += len(ga)
    return 2 * tp / (p + g) if p + g else 0.0


model, encode_text = minilm_ref.load(onnx_path, tok_path, MAXLEN)
vocab_encode = lambda w: encode_text(w)[1:-1]  # one word's pieces, without [CLS]/[SEP]
train, dev, test = conll(train_path), conll(dev_path), conll(test_path)
tags = sorted({t for s in train for _, t in s}, key=lambda t: (t != "O", t[2:], t))
tid = {t: i for i, t in enumerate(tags)}
model.head = nn.Linear(H, len(tags))
model.train()


def encode(sentence):
    ids, labels, first = [101], [-100], []
    for word, tag in sentence:
        pieces = vocab_encode(word) or [100]
        first.append(len(ids))
        ids += pieces; labels += [tid.get(tag, 0)] + [-100] * (len(pieces) - 1)
    ids, labels = ids[:MAXLEN - 1] + [102], labels[:MAXLEN - 1] + [-100]
    return ids, labels, first


def batches(data, shuffle):
    idx = list(range(len(data)))
    if shuffle: random.shuffle(idx)
    for i in range(0, len(idx), BATCH):
        chunk = [data[j] for j in idx[i:i + BATCH]]; T = max(len(x[0]) for x in chunk)
        ids = torch.tensor([x[0] + [0] * (T - len(x[0])) for x in chunk])
        y = torch.tensor([x[1] + [-100] * (T - len(x[1])) for x in chunk])
        yield ids, (ids != 0).long(), y, [x[2] for x in chunk]


def logits(ids, mask):
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=BF16):
        return model.head(model.hidden(ids, mask)).float()


def evaluate(sentences):
    model.eval(); enc = [encode(s) for s in sentences]; pred = []
    with torch.no_grad():
        for ids, mask, _, firsts in batches(enc, False):
            best = logits(ids, mask).argmax(-1)
            for r, first in enumerate(firsts):
                pred.append([tags[int(best[r, p])] if p < ids.shape[1] else "O" for p in first])
    model.train()
    return f1([[t for _, t in s] for s in sentences], pred)


Xtr = [encode(s) for s in train]
steps = EPOCHS * math.ceil(len(Xtr) / BATCH)
decay = [p for n, p in model.named_parameters() if not ("ln" in n or n.endswith("bias"))]
nodecay = [p for n, p in model.named_parameters() if ("ln" in n or n.endswith("bias"))]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": nodecay, "weight_decay": 0.0}], lr=LR)
warm = int(0.1 * steps)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1, (s + 1) / max(1, warm)) * max(0.0, (steps - s) / max(1, steps - warm)))
train_time, tokens = 0.0, 0
for ep in range(EPOCHS):
    t0 = time.time()
    for ids, mask, y, _ in batches(Xtr, True):
        out = logits(ids, mask)
        loss = F.cross_entropy(out.reshape(-1, len(tags)), y.reshape(-1))
        opt.zero_grad(); loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step(); sched.step(); tokens += int(mask.sum())
    train_time += time.time() - t0
    print(f"epoch {ep + 1}: dev entity_f1={evaluate(dev):.4f} train_time={train_time:.0f}s real_tokens/s={tokens / train_time:.0f}", flush=True)
print(f"test entity_f1={evaluate(test):.4f} ({len(test)} sentences); {steps} steps, {'bf16' if BF16 else 'fp32'}, train_time={train_time:.0f}s")
