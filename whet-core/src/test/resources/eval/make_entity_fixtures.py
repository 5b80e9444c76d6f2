"""Entity-level scores of tag sequences under strict IOB2, from a plain-Python implementation written from
the definition seqeval's strict mode uses (Ramshaw & Marcus 1995, IOB2; seqeval's `mode="strict",
scheme=IOB2`): an entity is a B-T tag followed by any number of I-T tags of the same type; an I-T that does
not continue an entity of type T starts none (it is an invalid chunk and counts as no entity). Precision,
recall and F1 are over exact (type, start, end) matches; micro over all entities, macro the mean over the
types seen in gold or predicted (0 where undefined); token accuracy the share of equal tags.

    cd whet-core/src/test/resources/eval && /usr/bin/python3 make_entity_fixtures.py
"""
import json
import random

TYPES = ["person", "location", "product", "corporation"]


def entities(tags):
    out, start, kind = set(), None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        if start is not None and not (tag.startswith("I-") and tag[2:] == kind):
            out.add((kind, start, i))
            start, kind = None, None
        if tag.startswith("B-"):
            start, kind = i, tag[2:]
    return out


def prf(tp, predicted, actual):
    p = tp / predicted if predicted else 0.0
    r = tp / actual if actual else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score(gold, pred):
    g = {(n,) + e for n, tags in enumerate(gold) for e in entities(tags)}
    p = {(n,) + e for n, tags in enumerate(pred) for e in entities(tags)}
    micro = prf(len(g & p), len(p), len(g))
    types = sorted({e[1] for e in g | p})
    per = {}
    for t in types:
        gt, pt = {e for e in g if e[1] == t}, {e for e in p if e[1] == t}
        pr = prf(len(gt & pt), len(pt), len(gt))
        per[t] = {"precision": pr[0], "recall": pr[1], "f1": pr[2], "support": len(gt)}
    tokens = sum(len(s) for s in gold)
    same = sum(a == b for gs, ps in zip(gold, pred) for a, b in zip(gs, ps))
    return {"precision": micro[0], "recall": micro[1], "f1": micro[2],
            "macro_f1": sum(v["f1"] for v in per.values()) / len(per) if per else 0.0,
            "token_accuracy": same / tokens, "per_type": per}


def sentence(rng):
    tags, i, n = [], 0, rng.randint(3, 14)
    while i < n:
        if rng.random() < 0.3:
            t = rng.choice(TYPES)
            tags.append("B-" + t)
            for _ in range(rng.randint(0, 2)):
                tags.append("I-" + t)
        else:
            tags.append("O")
        i = len(tags)
    return tags


def noisy(tags, rng):
    out = []
    for tag in tags:
        x = rng.random()
        if x < 0.08:
            out.append("O")
        elif x < 0.13:
            out.append(rng.choice(["B-", "I-"]) + rng.choice(TYPES))  # wrong or invalid tags
        else:
            out.append(tag)
    return out


def main():
    rng = random.Random(11)
    gold = [sentence(rng) for _ in range(150)]
    pred = [noisy(s, rng) for s in gold]
    # Hand cases: an I- without a B-, a type change inside a chunk, a chunk at the very end.
    gold += [["I-person", "I-person", "O"], ["B-person", "I-location", "O"], ["O", "B-product"]]
    pred += [["B-person", "I-person", "O"], ["B-person", "I-location", "O"], ["O", "B-product"]]
    with open("entities.json", "w") as f:
        json.dump({"gold": gold, "pred": pred, "scores": score(gold, pred)}, f)
    print("written")


if __name__ == "__main__":
    main()
