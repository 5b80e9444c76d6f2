#!/usr/bin/env python3
"""Draws the few-shot classification sets of docs/benchmarks.md (issue 18): K training examples per
class (K = 8, 16, 64, seed 1; a class with fewer keeps all) and 20 test examples per class, as
{"text", "label"} lines. Sources: BANKING77 (train.csv/test.csv) or CLINC150 (data_full.json, in-scope
intents only).

    scripts/make-fewshot.py banking77|clinc150 PATH/TO/DATASET_DIR OUT_DIR
"""
import csv, json, os, random, sys

kind, src, out = sys.argv[1:4]


def banking77(name):
    with open(os.path.join(src, name + '.csv'), encoding='utf-8') as f:
        return [(r['text'].strip(), r['category']) for r in csv.DictReader(f)]


def clinc150(name):
    return [(t, y) for t, y in json.load(open(os.path.join(src, 'data_full.json')))[name]]


read = {'banking77': banking77, 'clinc150': clinc150}[kind]


def by_class(rows):
    out = {}
    for text, label in rows:
        out.setdefault(label, []).append(text)
    return out


def write(name, rows):
    with open(os.path.join(out, name + '.jsonl'), 'w', encoding='utf-8') as f:
        for text, label in rows:
            f.write(json.dumps({'text': text, 'label': label}, ensure_ascii=False) + '\n')
    print(name, len(rows))


os.makedirs(out, exist_ok=True)
train = by_class(read('train'))
for k in (8, 16, 64):
    rng = random.Random(1)
    rows = []
    for label in sorted(train):
        texts = list(train[label])
        rng.shuffle(texts)
        rows += [(t, label) for t in texts[:k]]
    rng.shuffle(rows)
    write(f'train{k}', rows)
rng = random.Random(1)
test = by_class(read('test'))
rows = []
for label in sorted(test):
    texts = list(test[label])
    rng.shuffle(texts)
    rows += [(t, label) for t in texts[:20]]
write('test', rows)
