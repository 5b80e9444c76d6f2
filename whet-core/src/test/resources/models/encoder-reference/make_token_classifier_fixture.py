"""A RoBERTa token classifier in Transformers' layout (RobertaForTokenClassification: roberta.* without
a pooler, classifier.weight and classifier.bias, config.json with id2label/label2id) and the labels
Transformers' semantics give it: per token, logits = classifier(last hidden state), label =
id2label[argmax]. The encoder is make_encoder_fixtures.py's independent plain-numpy (float64)
implementation; nothing here imports Whet, PyTorch or Transformers.

    cd whet-core/src/test/resources/models/encoder-reference && /usr/bin/python3 make_token_classifier_fixture.py

Writes roberta-tiny-ner/ (config.json, model.safetensors) and token_classifier.json: token id
sequences (the second padded), their logits and labels.
"""
import json
import os

import numpy as np

from make_encoder_fixtures import HERE, config, hidden_states, random_model, write_safetensors

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def main():
    rng = np.random.default_rng(1807)
    c = config("roberta", "RobertaForTokenClassification")
    c["id2label"] = {str(i): l for i, l in enumerate(LABELS)}
    c["label2id"] = {l: i for i, l in enumerate(LABELS)}
    w = random_model(c, rng)
    w["classifier.weight"] = rng.normal(0, 0.5, (len(LABELS), c["hidden_size"])).astype(np.float32).astype(np.float64)
    w["classifier.bias"] = rng.normal(0, 0.1, len(LABELS)).astype(np.float32).astype(np.float64)
    d = os.path.join(HERE, "roberta-tiny-ner")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    write_safetensors(os.path.join(d, "model.safetensors"), w)
    first = [0] + rng.integers(3, c["vocab_size"], 12).tolist() + [2]
    second = [0] + rng.integers(3, c["vocab_size"], 6).tolist() + [2] + [c["pad_token_id"]] * 6
    out = {"numpy": np.__version__, "dir": "models/encoder-reference/roberta-tiny-ner",
           "ids": [first, second], "logits": [], "labels": []}
    for ids in (first, second):
        logits = hidden_states(c, w, ids) @ w["classifier.weight"].T + w["classifier.bias"]
        out["logits"].append([[float("%.9g" % v) for v in row] for row in logits])
        out["labels"].append([c["id2label"][str(int(k))] for k in logits.argmax(-1)])
    with open(os.path.join(HERE, "token_classifier.json"), "w") as f:
        json.dump(out, f)
    print("written with numpy", np.__version__)


if __name__ == "__main__":
    main()
