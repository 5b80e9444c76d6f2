#!/usr/bin/env python3
"""Writes the SST-2 files that docs/benchmarks.md's fine-tune figures use.

Usage: scripts/make-sst2-subset.py SST2_DIR OUT_DIR
  SST2_DIR holds GLUE SST-2's train.tsv and dev.tsv (../shared/data/sst2 in the workplace).
  OUT_DIR gets train8k.jsonl (a stratified 8,000-sentence sample of train.tsv: each label keeps its
  share of the full set, drawn after a random.Random(1) shuffle) and dev.jsonl (all 872 sentences).
Research-only data (see SST2_DIR's licence note): generated for benchmarks, never committed.
"""
import json
import random
import sys
from pathlib import Path


def read(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        next(f)  # header: sentence<TAB>label
        for line in f:
            sentence, label = line.rstrip("\n").rsplit("\t", 1)
            rows.append({"text": sentence.strip(), "label": label})
    return rows


def write(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def main():
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    train = read(src / "train.tsv")
    random.Random(1).shuffle(train)
    by_label = {}
    for r in train:
        by_label.setdefault(r["label"], []).append(r)
    total = 8000
    sample = []
    for label, rows in sorted(by_label.items()):
        sample += rows[: round(total * len(rows) / len(train))]
    random.Random(1).shuffle(sample)
    write(out / "train8k.jsonl", sample)
    write(out / "dev.jsonl", read(src / "dev.tsv"))
    print(f"{len(sample)} training and {len(read(src / 'dev.tsv'))} dev sentences in {out}")


if __name__ == "__main__":
    main()
