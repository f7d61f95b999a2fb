"""Fit the danger classifier on the labelled messages and write the weights the service ships.

Run: ``python -m flows.safety.train`` (``--help`` for options). It splits the labelled data by a
stable hash, fits a logistic regression on the train split, picks the thresholds on validation
so that lexicons-or-model misses as little danger as it can, and reports the untouched test split.
Vectors are cached in a git-ignored file, so a second run costs seconds, not minutes of CPU.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

# Small matrices on a shared machine: one BLAS thread is ten times faster than fighting for two.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from flows.safety.classifier import CLASSES, DEFAULT_WEIGHTS, Classifier  # noqa: E402
from flows.safety.embedding import MODEL_NAME, PREFIX, Embedder  # noqa: E402
from flows.safety.evaluation import (  # noqa: E402
    CHAT_DIR,
    DANGER,
    DEFAULT_LABELLED_DIR,
    Counts,
    Example,
    combine,
    count,
    format_table,
    in_split,
    load_examples,
    report,
)
from flows.safety.layered import worth_embedding  # noqa: E402
from flows.safety.screening import load_lexicons  # noqa: E402

DEFAULT_CACHE = Path(".cache") / "screen-vectors.npz"
L2_CHOICES = (3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
# Any-danger recall the thresholds must reach on validation before precision counts.
RECALL_FLOOR = 0.97
CHAT_WEIGHT = 4.0


def text_key(text: str) -> str:
    """The cache key of a text's vector, for the prefix the model reads it with."""
    return hashlib.sha256(f"{PREFIX}: {text}".encode()).hexdigest()[:24]


def embed_cached(texts: Sequence[str], cache: Path | None) -> np.ndarray:
    """Vectors for the texts, reusing the cache file and adding what it lacked."""
    known: dict[str, np.ndarray] = {}
    if cache is not None and cache.exists():
        with np.load(cache) as stored:
            known = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
    keys = [text_key(text) for text in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    if missing:
        embedder = Embedder()
        print(f"embedding {len(missing)} messages ...", file=sys.stderr, flush=True)
        for start in range(0, len(missing), 64):
            chunk = missing[start : start + 64]
            for (key, _), vector in zip(chunk, embedder.embed([t for _, t in chunk]), strict=True):
                known[key] = vector
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            names = sorted(known)
            np.savez(cache, keys=np.array(names), vectors=np.stack([known[k] for k in names]))
    return np.stack([known[k] for k in keys]).astype(np.float32)


def fit(
    vectors: np.ndarray,
    labels: Sequence[str],
    l2: float,
    extra_weight: np.ndarray | None = None,
    steps: int = 600,
) -> tuple:
    """Multinomial logistic regression with balanced class weights, by full-batch Adam."""
    y = np.array([CLASSES.index(label) for label in labels])
    n, dim = vectors.shape
    onehot = np.eye(len(CLASSES))[y]
    share = onehot.mean(axis=0)
    sample_weight = (1.0 / (len(CLASSES) * np.maximum(share, 1e-9)))[y]
    if extra_weight is not None:
        sample_weight = sample_weight * extra_weight
    x = vectors.astype(np.float64) * np.sqrt(dim)  # unit vectors: scale so weights stay O(1)
    w = np.zeros((len(CLASSES), dim))
    b = np.zeros(len(CLASSES))
    m = [np.zeros_like(w), np.zeros_like(b)]
    v = [np.zeros_like(w), np.zeros_like(b)]
    rate, beta1, beta2 = 0.05, 0.9, 0.999
    for step in range(1, steps + 1):
        logits = x @ w.T + b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        error = (p - onehot) * sample_weight[:, None] / n
        grads = [error.T @ x + l2 * w, error.sum(axis=0)]
        for i, (param, grad) in enumerate(zip((w, b), grads, strict=True)):
            m[i] = beta1 * m[i] + (1 - beta1) * grad
            v[i] = beta2 * v[i] + (1 - beta2) * grad**2
            m_hat, v_hat = m[i] / (1 - beta1**step), v[i] / (1 - beta2**step)
            param -= rate * m_hat / (np.sqrt(v_hat) + 1e-8)
    return (w * np.sqrt(dim)).astype(np.float32), b.astype(np.float32)


def log_loss(classifier: Classifier, vectors: np.ndarray, labels: Sequence[str]) -> float:
    p = classifier.probabilities(vectors)
    y = np.array([CLASSES.index(label) for label in labels])
    return float(-np.log(np.maximum(p[np.arange(len(y)), y], 1e-12)).mean())


def _f2(counts: Counts) -> float:
    """F-beta with beta 2: the help paths of the right kind, recall weighed over precision."""
    total = 4 * counts.precision + counts.recall
    return 5 * counts.recall * counts.precision / total if total else 0.0


def choose_thresholds(
    probabilities: np.ndarray, lexicon: Sequence[str], truth: Sequence[str]
) -> tuple[float, float, dict[str, float]]:
    """The danger threshold and self-harm share that serve recall first, then precision."""
    best: tuple[tuple, float, float, dict[str, float]] | None = None
    for threshold in np.arange(0.05, 0.96, 0.01):
        for share in np.arange(0.2, 0.81, 0.05):
            probe = Classifier(np.zeros((3, 1)), np.zeros(3), float(threshold), float(share), {})
            model = [probe.verdict(row).label for row in probabilities]
            predicted = [combine(lex, mod) for lex, mod in zip(lexicon, model, strict=True)]
            any_ = count(truth, predicted, DANGER)
            violence = count(truth, predicted, ("violence",))
            self_harm = count(truth, predicted, ("self_harm",))
            # Any-danger recall up to the floor first (a miss can cost a life, a false alarm a
            # kind word), then the right help paths: violence and self-harm F2 together (recall
            # counts four times as much as precision).
            key = (
                round(min(any_.recall, RECALL_FLOOR), 3),
                round(_f2(violence) + _f2(self_harm), 4),
            )
            if best is None or key > best[0]:
                figures = {
                    "any_recall": round(any_.recall, 3),
                    "any_precision": round(any_.precision, 3),
                    "violence_recall": round(violence.recall, 3),
                    "violence_precision": round(violence.precision, 3),
                    "self_harm_recall": round(self_harm.recall, 3),
                    "self_harm_precision": round(self_harm.precision, 3),
                }
                best = (key, float(threshold), float(share), figures)
    assert best is not None
    return best[1], best[2], best[3]


def train(
    examples: list[Example], cache: Path | None, lexicon_dir: Path | None = None
) -> tuple[Classifier, dict[str, object]]:
    """Fit, choose thresholds on validation, and measure on test; returns weights and report."""
    splits = {name: in_split(examples, name) for name in ("train", "validation", "test")}
    if not splits["train"] or not splits["validation"]:
        raise SystemExit("error: too few labelled messages to split into train and validation")
    vectors = {
        name: embed_cached([e.text for e in part], cache) if part else np.zeros((0, 384))
        for name, part in splits.items()
    }
    lexicons = load_lexicons(lexicon_dir)
    lexicon = {name: [lexicons.screen(e.text).label for e in part] for name, part in splits.items()}
    labels = {name: [e.label for e in part] for name, part in splits.items()}

    # Everyday chat is most of what the screen sees: its few examples count for more.
    chat_weight = np.array(
        [CHAT_WEIGHT if e.category == "short_chat" else 1.0 for e in splits["train"]]
    )
    candidates = []
    for l2 in L2_CHOICES:
        w, b = fit(vectors["train"], labels["train"], l2, chat_weight)
        candidate = Classifier(w, b, 0.5, 0.5, {})
        loss = log_loss(candidate, vectors["validation"], labels["validation"])
        candidates.append((loss, l2, w, b))
    # The strongest regularisation within 2 % of the best validation log-loss: simpler when close.
    best_loss = min(c[0] for c in candidates)
    loss, l2, w, b = max((c for c in candidates if c[0] <= best_loss * 1.02), key=lambda c: c[1])
    probabilities = Classifier(w, b, 0.5, 0.5, {}).probabilities(vectors["validation"])
    for i, example in enumerate(splits["validation"]):
        if not worth_embedding(example.text):  # the screen never asks the model about these
            probabilities[i] = (1.0, 0.0, 0.0)
    threshold, share, figures = choose_thresholds(
        probabilities, lexicon["validation"], labels["validation"]
    )
    info: dict[str, object] = {
        "model": MODEL_NAME,
        "prefix": PREFIX,
        "trained_on": {name: len(part) for name, part in splits.items()},
        "languages": sorted({e.lang for e in examples}),
        "l2": l2,
        "validation_log_loss": round(loss, 4),
        "validation": figures,
    }
    classifier = Classifier(w, b, threshold, share, info, PREFIX)
    result: dict[str, object] = {}
    if splits["test"]:
        model = [
            v.label if worth_embedding(e.text) else "none"
            for v, e in zip(classifier.classify(vectors["test"]), splits["test"], strict=True)
        ]
        combined = [combine(lex, mod) for lex, mod in zip(lexicon["test"], model, strict=True)]
        result = {
            "lexicons_and_model": report(splits["test"], combined),
            "lexicons_only": report(splits["test"], lexicon["test"]),
            "model_only": report(splits["test"], model),
        }
        info["test"] = {
            key: value
            for key, value in result["lexicons_and_model"]["all"].items()  # type: ignore[union-attr]
            if key != "n"
        }
    return classifier, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.safety.train", description=__doc__)
    parser.add_argument(
        "--data", type=Path, action="append", help="folder of labelled *.jsonl (repeatable; "
        f"default: {DEFAULT_LABELLED_DIR.name} and {CHAT_DIR.name})",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS, help="weights file to write")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="vector cache file")
    parser.add_argument("--no-cache", action="store_true", help="embed everything afresh")
    parser.add_argument("--dry-run", action="store_true", help="report, do not write weights")
    args = parser.parse_args(argv)
    examples = load_examples(*(args.data or ()))
    classifier, result = train(examples, None if args.no_cache else args.cache)
    info = classifier.info
    print(f"trained on {info['trained_on']}, l2={info['l2']}")
    print(
        f"thresholds: danger {classifier.danger_threshold:.2f}, "
        f"self-harm share {classifier.self_harm_share:.2f}; validation {info['validation']}"
    )
    for name, table in result.items():
        print(f"\n== test split: {name.replace('_', ' ')}\n{format_table(table)}")  # type: ignore[arg-type]
    if not args.dry_run:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(classifier.to_json()) + "\n", encoding="utf-8")
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
