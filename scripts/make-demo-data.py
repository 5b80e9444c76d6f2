#!/usr/bin/env python3
"""Builds the dataset `whet demo` ships with: 20 intents of BANKING77 (PolyAI, CC-BY-4.0).
Run once by a developer; the output is committed under whet-app/src/main/resources/demo/banking77/.
Usage: scripts/make-demo-data.py PATH/TO/banking77   (the directory with train.csv and test.csv)"""
import csv, json, os, random, sys

src = sys.argv[1]
out = os.path.join(os.path.dirname(__file__), '..', 'whet-app/src/main/resources/demo/banking77')
INTENTS = [  # 20 everyday customer-service intents, several of them easy to confuse with each other
    'activate_my_card', 'age_limit', 'apple_pay_or_google_pay', 'card_arrival', 'card_not_working',
    'cash_withdrawal_charge', 'change_pin', 'compromised_card', 'country_support', 'declined_transfer',
    'exchange_rate', 'lost_or_stolen_card', 'order_physical_card', 'passcode_forgotten', 'pending_transfer',
    'Refund_not_showing_up', 'terminate_account', 'top_up_failed', 'transfer_timing', 'wrong_amount_of_cash_received']

def rows(name):
    with open(os.path.join(src, name), encoding='utf-8') as f:
        return [(r['text'].strip(), r['category']) for r in csv.DictReader(f) if r['category'] in INTENTS]

rng = random.Random(77)
train, val, test = [], [], []
by_intent = {}
for text, intent in rows('train.csv'):
    by_intent.setdefault(intent, []).append(text)
for intent in INTENTS:
    texts = by_intent[intent]
    rng.shuffle(texts)
    val += [(t, intent) for t in texts[:10]]
    train += [(t, intent) for t in texts[10:60]]
test_by = {}
for text, intent in rows('test.csv'):
    test_by.setdefault(intent, []).append(text)
for intent in INTENTS:
    test += [(t, intent) for t in test_by[intent][:20]]
for name, data in (('train', train), ('val', val), ('test', test)):
    rng.shuffle(data)
    with open(os.path.join(out, name + '.jsonl'), 'w', encoding='utf-8') as f:
        for text, intent in data:
            f.write(json.dumps({'text': text, 'label': intent}, ensure_ascii=False) + '\n')
    print(name, len(data))
