"""scikit-learn reference for BaselinesBench (same split, same synthetic embeddings shape).

    /usr/bin/python3 bench_sklearn.py path/to/sst2/train.tsv
"""
import sys
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

lines = open(sys.argv[1], encoding="utf-8").read().split("\n")[1:12001]
rows = [line.split("\t") for line in lines if line]
train = [r for i, r in enumerate(rows, 1) if i % 5 != 0]
test = [r for i, r in enumerate(rows, 1) if i % 5 == 0]
t = time.time()
vec = TfidfVectorizer(ngram_range=(1, 2))
xtr = vec.fit_transform([r[0] for r in train])
model = LogisticRegression(C=1.0, max_iter=1000).fit(xtr, [int(r[1]) for r in train])
pred = model.predict(vec.transform([r[0] for r in test]))
acc = np.mean(pred == np.array([int(r[1]) for r in test]))
print(f"tfidf_logreg: {len(train)} train, {len(test)} test, {time.time() - t:.2f} s, accuracy {acc:.4f}")

rng = np.random.default_rng(1)
y = rng.integers(0, 20, 12000)
e = rng.normal(0, 1, (12000, 384)).astype(np.float32) + 0.5 * (np.arange(384)[None, :] % 20 == y[:, None])
t = time.time()
KNeighborsClassifier(5, metric="cosine", algorithm="brute").fit(e[:10000], y[:10000]).predict(e[10000:])
print(f"knn: 10000 x 2000 x 384: {time.time() - t:.2f} s")
t = time.time()
LogisticRegression(C=1.0, max_iter=1000).fit(e[:10000], y[:10000]).predict_proba(e[10000:])
print(f"linear_probe: 10000 x 384, 20 classes: {time.time() - t:.2f} s")
