#!/usr/bin/env python3
"""Builds the generative tasks of docs/benchmarks.md (issue 19) from DialogSum (CC-BY-NC-SA-4.0;
cylnlp/dialogsum, dev and test): short dialogues (at most MAX_WORDS words) as prompt/completion
records ("Dialogue: ... Summary:" -> " <summary>"), train from dev and held-out from test; and the same
records as preference pairs for DPO, the reference summary chosen and the summary of another dialogue
of the same split rejected (seed 1). Also documents.jsonl, every training summary as a passage, for the
RAG baseline.

    scripts/make-dialogsum-tasks.py PATH/TO/dialogsum OUT_DIR [MAX_WORDS]
"""
import json, os, random, sys

src, out = sys.argv[1], sys.argv[2]
max_words = int(sys.argv[3]) if len(sys.argv) > 3 else 80
os.makedirs(out, exist_ok=True)
rng = random.Random(1)


def read(split):
    rows = [json.loads(l) for l in open(os.path.join(src, 'dialogsum.%s.jsonl' % split), encoding='utf-8')]
    rows = [r for r in rows if len(r['dialogue'].split()) <= max_words]
    for r in rows:
        r['summary'] = speakers(r.get('summary') or r['summary1'])
    return rows


def speakers(text):  # the corpus's #Person1# and #Person2#, as A and B
    return text.replace('#Person1#', 'A').replace('#Person2#', 'B')


def prompt(r):
    return 'Dialogue:\n' + speakers(r['dialogue']) + '\nSummary:'


def write(name, records):
    with open(os.path.join(out, name), 'w', encoding='utf-8') as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + '\n')
    print(name, len(records))


for split, name in (('dev', 'train'), ('test', 'heldout')):
    rows = read(split)
    write(name + '.jsonl', [{'prompt': prompt(r), 'completion': ' ' + r['summary']} for r in rows])
    others = list(range(len(rows)))
    prefs = []
    for i, r in enumerate(rows):
        j = rng.choice([k for k in others if k != i])
        prefs.append({'prompt': prompt(r), 'chosen': ' ' + r['summary'], 'rejected': ' ' + rows[j]['summary']})
    write(name + '_prefs.jsonl', prefs)
    if split == 'dev':
        write('documents.jsonl', [{'title': r['topic'], 'text': r['summary']} for r in rows])
