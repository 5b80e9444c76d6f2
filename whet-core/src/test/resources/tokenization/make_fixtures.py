#!/usr/bin/env python3
"""Independent reference tokenization for TokenizationTest: a plain-Python BERT WordPiece
(uncased, accents stripped, CJK split, punctuation split) reading only the vocabulary from each
built-in model's tokenizer JSON. Written for Whet's tests; it shares no code with Hugging Face's
Rust tokenizers, which Whet uses.

Usage: python3 make_fixtures.py TOKENIZER.json MAXLEN > NAME.jsonl   (reads texts.txt beside it)
"""
import json, sys, unicodedata, os

vocab = json.load(open(sys.argv[1]))['model']['vocab']
maxlen = int(sys.argv[2])

def is_cjk(c):
    cp = ord(c)
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)

def is_punct(c):
    cp = ord(c)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(c).startswith('P')

def words(text):
    # clean: drop control chars and NUL/replacement, map whitespace to space
    text = ''.join(' ' if c in '\t\n\r' or unicodedata.category(c) == 'Zs' else c
                   for c in text if not (ord(c) in (0, 0xFFFD) or (unicodedata.category(c) in ('Cc', 'Cf') and c not in '\t\n\r')))
    text = ''.join(' %s ' % c if is_cjk(c) else c for c in text)
    text = unicodedata.normalize('NFD', text.lower())
    text = ''.join(c for c in text if unicodedata.category(c) != 'Mn')
    out = []
    for w in text.split():
        cur = ''
        for c in w:
            if is_punct(c):
                if cur: out.append(cur); cur = ''
                out.append(c)
            else:
                cur += c
        if cur: out.append(cur)
    return out

def wordpiece(w):
    if len(w) > 100: return [vocab['[UNK]']]
    ids, s = [], 0
    while s < len(w):
        e, cur = len(w), None
        while s < e:
            piece = ('##' if s else '') + w[s:e]
            if piece in vocab: cur = vocab[piece]; break
            e -= 1
        if cur is None: return [vocab['[UNK]']]
        ids.append(cur); s = e
    return ids

here = os.path.dirname(os.path.abspath(__file__))
for line in open(os.path.join(here, 'texts.txt'), encoding='utf-8'):
    text = json.loads(line)
    ids = [vocab['[CLS]']]
    for w in words(text): ids += wordpiece(w)
    ids = ids[:maxlen - 1] + [vocab['[SEP]']]
    print(json.dumps({'text': text, 'ids': ids}, ensure_ascii=False))
