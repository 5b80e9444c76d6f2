"""Writes the scikit-learn reference values the dev.whet.eval tests compare against.

Run with Debian's Python and packages (see README.md in this folder):
    /usr/bin/python3 make_fixtures.py
Everything is seeded, so a rerun with the same versions rewrites identical files.
"""
import json

import numpy as np
import scipy
import scipy.stats
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (accuracy_score, average_precision_score, confusion_matrix, f1_score,
                             hamming_loss, log_loss, precision_recall_fscore_support,
                             roc_auc_score)
from sklearn.neighbors import KNeighborsClassifier

rng = np.random.default_rng(7)
VERSIONS = {"sklearn": sklearn.__version__, "numpy": np.__version__, "scipy": scipy.__version__}


def exact_logreg(x, y, k, c=1.0):
    """sklearn's LogisticRegression objective (C * sum of log-losses + ||W||^2 / 2, intercept not
    penalised; one sigmoid for k == 2, softmax otherwise) minimised to a much tighter optimum than
    sklearn's lbfgs reaches (it stops on a relative change of 64 * machine epsilon). Returns a
    function giving the probabilities of new rows."""
    from scipy.optimize import minimize
    x = x.toarray() if hasattr(x, "toarray") else np.asarray(x, dtype=np.float64)
    n, d = x.shape
    out = 1 if k == 2 else k
    target = np.eye(k)[y] if k > 2 else y[:, None].astype(np.float64)

    def probs(w, b, rows):
        z = rows @ w + b
        if out == 1:
            return 1 / (1 + np.exp(-z))
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def objective(t):
        w, b = t[:d * out].reshape(d, out), t[d * out:]
        p = probs(w, b, x)
        if out == 1:
            loss = -(target * np.log(p) + (1 - target) * np.log(1 - p)).sum()
        else:
            loss = -np.log((p * target).sum(axis=1)).sum()
        r = p - target
        grad = np.concatenate([(c * x.T @ r + w).ravel(), c * r.sum(axis=0)])
        return c * loss + 0.5 * (w ** 2).sum(), grad

    t = minimize(objective, np.zeros(d * out + out), jac=True, method="L-BFGS-B",
                 options=dict(gtol=1e-12, ftol=1e-16, maxiter=100000)).x
    w, b = t[:d * out].reshape(d, out), t[d * out:]

    def predict_proba(rows):
        rows = rows.toarray() if hasattr(rows, "toarray") else np.asarray(rows, dtype=np.float64)
        p = probs(w, b, rows)
        return np.hstack([1 - p, p]) if out == 1 else p
    return predict_proba


def dump(name, obj):
    obj = dict(obj, versions=VERSIONS)
    with open(name, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def ece(gold, probs, bins=15):
    """The definition stated in Metrics.expectedCalibrationError, written independently in numpy."""
    conf = probs.max(axis=1)
    pred = probs.argmax(axis=1)
    idx = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() / len(gold) * abs((pred[m] == gold[m]).mean() - conf[m].mean())
    return total


def classification(gold, pred, probs, k):
    labels = list(range(k))
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    out = {
        "gold": gold.tolist(), "pred": pred.tolist(), "probs": probs.tolist(), "k": k,
        "accuracy": accuracy_score(gold, pred),
        "precision": p.tolist(), "recall": r.tolist(), "f1": f.tolist(), "support": s.tolist(),
        "confusion": confusion_matrix(gold, pred, labels=labels).tolist(),
        "log_loss": log_loss(gold, probs, labels=labels),
        "ece": ece(gold, probs),
    }
    for avg in ("macro", "micro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(gold, pred, labels=labels, average=avg,
                                                     zero_division=0)
        out[avg] = {"precision": p, "recall": r, "f1": f}
    return out


# 1. Multi-class, 5 classes; class 4 has gold examples but is never predicted (zero_division).
n, k = 240, 5
gold = rng.integers(0, k, n)
logits = rng.normal(0, 1, (n, k)) + 1.5 * np.eye(k)[gold]
logits[:, 4] -= 6
probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
pred = probs.argmax(axis=1)
assert (pred != 4).all() and (gold == 4).any()
dump("multiclass.json", classification(gold, pred, probs, k))

# 2. Binary with tied scores (rounded to 2 decimals) for ROC-AUC and average precision.
n = 300
gold = rng.integers(0, 2, n)
score = np.round(np.clip(rng.normal(0.35 + 0.3 * gold, 0.2), 0.01, 0.99), 2)
probs = np.stack([1 - score, score], axis=1)
pred = probs.argmax(axis=1)
out = classification(gold, pred, probs, 2)
out["roc_auc"] = roc_auc_score(gold, score)
out["average_precision"] = average_precision_score(gold, score)
dump("binary.json", out)

# 3. Multi-label: 120 examples x 6 labels; label 5 never gold nor predicted.
gold = rng.random((120, 6)) < 0.3
pred = gold ^ (rng.random((120, 6)) < 0.15)
gold[:, 5] = False
pred[:, 5] = False
dump("multilabel.json", {
    "gold": gold.astype(int).tolist(), "pred": pred.astype(int).tolist(),
    "subset_accuracy": accuracy_score(gold, pred), "hamming_loss": hamming_loss(gold, pred),
    "f1_micro": f1_score(gold, pred, average="micro", zero_division=0),
    "f1_macro": f1_score(gold, pred, average="macro", zero_division=0),
})

# 4. Spearman with ties in both variables (scipy ranks ties by their average).
x = np.round(rng.normal(0, 1, 200), 1)
y = np.round(0.6 * x + rng.normal(0, 1, 200), 1)
dump("spearman.json", {"x": x.tolist(), "y": y.tolist(),
                       "spearman": scipy.stats.spearmanr(x, y).correlation})

# 5. Baselines on synthetic "embeddings": 4 overlapping Gaussian classes in 16 dimensions.
d, k = 16, 4
centres = rng.normal(0, 1, (k, d))
def sample(m):
    y = rng.integers(0, k, m)
    return (centres[y] + rng.normal(0, 1.2, (m, d))).astype(np.float32), y
xtr, ytr = sample(400)
xte, yte = sample(150)
knn = KNeighborsClassifier(n_neighbors=5, metric="cosine", algorithm="brute").fit(xtr, ytr)
def unit(a):
    return a / np.linalg.norm(a, axis=1, keepdims=True)
cent = unit(np.stack([unit(xtr.astype(np.float64))[ytr == c].mean(axis=0) for c in range(k)]))
centroid_pred = (unit(xte.astype(np.float64)) @ cent.T).argmax(axis=1)
# float64 copies: on float32 input sklearn 1.2 also optimises in float32, which blurs its optimum
tight = LogisticRegression(C=1.0, tol=1e-10, max_iter=100000).fit(xtr.astype(np.float64), ytr)
default = LogisticRegression(C=1.0).fit(xtr.astype(np.float64), ytr)
dump("embeddings.json", {
    "k": k, "train": xtr.tolist(), "train_labels": ytr.tolist(),
    "test": xte.tolist(), "test_labels": yte.tolist(),
    "knn_pred": knn.predict(xte).tolist(), "knn_proba": knn.predict_proba(xte).tolist(),
    "centroid_pred": centroid_pred.tolist(),
    "logreg_pred": tight.predict(xte.astype(np.float64)).tolist(),
    "logreg_proba": tight.predict_proba(xte.astype(np.float64)).tolist(),
    "logreg_default_pred": default.predict(xte.astype(np.float64)).tolist(),
    "logreg_proba_exact": exact_logreg(xtr, ytr, k)(xte).tolist(),
})

# 6. TF-IDF (word 1-2-grams) + logistic regression on 300 SST-2 dev sentences: 200 train, 100 test.
rows = [line.rstrip("\n").split("\t") for line in open("sst2-dev-300.tsv", encoding="utf-8")]
texts = [r[0] for r in rows]
labels = np.array([int(r[1]) for r in rows])
vec = TfidfVectorizer(ngram_range=(1, 2))
xtr = vec.fit_transform(texts[:200])
xte = vec.transform(texts[200:])
tight = LogisticRegression(C=1.0, tol=1e-10, max_iter=100000).fit(xtr, labels[:200])
default = LogisticRegression(C=1.0).fit(xtr, labels[:200])
first = xte[0].tocoo()
dump("tfidf.json", {
    "train_rows": 200,
    "vocabulary": vec.get_feature_names_out().tolist(), "idf": vec.idf_.tolist(),
    "test_row0": {"columns": first.col.tolist(), "values": first.data.tolist()},
    "logreg_pred": tight.predict(xte).tolist(), "logreg_proba": tight.predict_proba(xte)[:, 1].tolist(),
    "logreg_default_pred": default.predict(xte).tolist(),
    "logreg_proba_exact": exact_logreg(xtr, labels[:200], 2)(xte)[:, 1].tolist(),
    "accuracy": accuracy_score(labels[200:], tight.predict(xte)),
    "accuracy_default": accuracy_score(labels[200:], default.predict(xte)),
})
# 7. The tuned baselines' settings on the same split: word 1-2-grams and character 2-5-grams within
#    words, both with sublinear tf and min_df=2, and logistic regression at C=10 (a setting the
#    tuning grid holds), fitted tightly.
def tuned(vec, c=10.0):
    xtr = vec.fit_transform(texts[:200])
    xte = vec.transform(texts[200:])
    tight = LogisticRegression(C=c, tol=1e-10, max_iter=100000).fit(xtr, labels[:200])
    first = xte[0].tocoo()
    return {
        "vocabulary": vec.get_feature_names_out().tolist(), "idf": vec.idf_.tolist(),
        "test_row0": {"columns": first.col.tolist(), "values": first.data.tolist()},
        "logreg_pred": tight.predict(xte).tolist(),
        "logreg_proba": tight.predict_proba(xte)[:, 1].tolist(),
        "logreg_proba_exact": exact_logreg(xtr, labels[:200], 2, c)(xte)[:, 1].tolist(),
    }

dump("tfidf_tuned.json", {
    "train_rows": 200, "c": 10.0,
    "words": tuned(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)),
    "chars": tuned(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
})
print("fixtures written with", VERSIONS)
