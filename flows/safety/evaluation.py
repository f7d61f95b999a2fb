"""Labelled messages, their stable train/validation/test split, and recall/precision tables.

Shared by the training command, the tests that hold the screen to its targets and the benchmark,
so all three split and count the same way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LABELLED_DIR = Path(__file__).parent / "data" / "labelled"
# Short everyday chat ("2", "yes", "I don't know"): most of what the screen sees, and without it
# the model reads danger into messages that carry no meaning at all.
CHAT_DIR = Path(__file__).parent / "data" / "chat"
DANGER = ("violence", "self_harm")
SPLITS = ("train", "validation", "test")
# Out of 100 hash buckets: 0-69 train, 70-84 validation, 85-99 test.
_BOUNDS = (70, 85)


@dataclass(frozen=True)
class Example:
    text: str
    lang: str
    label: str
    category: str = ""
    register: str = ""

    @property
    def split(self) -> str:
        return split_of(self.text)


def split_of(text: str) -> str:
    """Which split a message belongs to, from a hash of its spelling-insensitive form."""
    key = " ".join(text.casefold().split()).encode("utf-8")
    bucket = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % 100
    return "train" if bucket < _BOUNDS[0] else "validation" if bucket < _BOUNDS[1] else "test"


def load_examples(*folders: Path) -> list[Example]:
    """Every ``*.jsonl`` file of labelled messages in the folders (default: labelled and chat)."""
    examples: list[Example] = []
    paths = [
        p for f in folders or (DEFAULT_LABELLED_DIR, CHAT_DIR) for p in sorted(f.glob("*.jsonl"))
    ]
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                example = Example(
                    text=row["text"],
                    lang=row["lang"],
                    label=row["label"],
                    category=row.get("category", ""),
                    register=row.get("register", ""),
                )
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(
                    f"{path.name}:{number}: not a labelled message ({error})"
                ) from None
            if example.label not in ("none", *DANGER):
                raise ValueError(f"{path.name}:{number}: unknown label {example.label!r}")
            examples.append(example)
    return examples


def in_split(examples: Iterable[Example], split: str) -> list[Example]:
    return [example for example in examples if example.split == split]


def combine(lexicon: str, model: str) -> str:
    """Either layer can flag; when the lexicons flag, their label decides which help she needs.

    An explicit phrase names what happened ("he hit me"), where the model often reads violence
    as self-harm; within the lexicons self_harm already wins when both kinds match. On train and
    validation, a lexicon `violence` the model read as `self_harm` was violence 14 times out of 27.
    """
    return lexicon if lexicon != "none" else model


@dataclass(frozen=True)
class Counts:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0

    @property
    def recall(self) -> float:
        found = self.true_positive + self.false_negative
        return self.true_positive / found if found else 1.0

    @property
    def precision(self) -> float:
        flagged = self.true_positive + self.false_positive
        return self.true_positive / flagged if flagged else 1.0

    @property
    def support(self) -> int:
        return self.true_positive + self.false_negative


def count(truth: Sequence[str], predicted: Sequence[str], positive: Iterable[str]) -> Counts:
    """Counts for one class, or for any of several (``DANGER`` for any-danger)."""
    wanted = set(positive)
    tp = sum(t in wanted and p in wanted for t, p in zip(truth, predicted, strict=True))
    fp = sum(t not in wanted and p in wanted for t, p in zip(truth, predicted, strict=True))
    fn = sum(t in wanted and p not in wanted for t, p in zip(truth, predicted, strict=True))
    return Counts(tp, fp, fn)


def report(examples: Sequence[Example], predicted: Sequence[str]) -> dict[str, dict[str, object]]:
    """Recall and precision overall, per language and per category (recall on danger ones)."""
    truth = [example.label for example in examples]

    def row(indices: list[int]) -> dict[str, object]:
        t = [truth[i] for i in indices]
        p = [predicted[i] for i in indices]
        result: dict[str, object] = {"n": len(indices)}
        for name, positive in (("any", DANGER), ("violence", ("violence",))):
            result |= _pair(name, count(t, p, positive))
        result |= _pair("self_harm", count(t, p, ("self_harm",)))
        return result

    everything = list(range(len(examples)))
    by_lang = {
        lang: row([i for i in everything if examples[i].lang == lang])
        for lang in sorted({example.lang for example in examples})
    }
    by_category = {}
    for category in sorted({example.category for example in examples if example.category}):
        indices = [i for i in everything if examples[i].category == category]
        label = examples[indices[0]].label
        flagged = sum(predicted[i] != "none" for i in indices)
        correct = sum(predicted[i] == truth[i] for i in indices)
        by_category[category] = {
            "n": len(indices),
            "label": label,
            "flagged": round(flagged / len(indices), 3),
            "correct": round(correct / len(indices), 3),
        }
    return {"all": row(everything), "languages": by_lang, "categories": by_category}


def _pair(name: str, counts: Counts) -> dict[str, object]:
    return {
        f"{name}_recall": round(counts.recall, 3),
        f"{name}_precision": round(counts.precision, 3),
        f"{name}_n": counts.support,
    }


def format_table(result: dict[str, dict[str, object]]) -> str:
    """A plain-text table of a `report`, for the training command and the README."""
    head = "        n  any-R  any-P  viol-R viol-P  sh-R   sh-P"
    lines = [head]
    rows = [("all", result["all"]), *result["languages"].items()]
    for name, r in rows:
        lines.append(
            f"{name:<5}{r['n']:>5}  {r['any_recall']:.2f}   {r['any_precision']:.2f}   "
            f"{r['violence_recall']:.2f}   {r['violence_precision']:.2f}   "
            f"{r['self_harm_recall']:.2f}   {r['self_harm_precision']:.2f}"
        )
    lines.append("")
    lines.append("category                          n  label      flagged  correct")
    for name, r in result["categories"].items():
        lines.append(
            f"{name:<32}{r['n']:>4}  {r['label']:<10} {r['flagged']:>6.2f}  {r['correct']:>6.2f}"
        )
    return "\n".join(lines)
