"""The small classifier that reads danger from a message's sentence vector.

A logistic regression over three labels (none, violence, self_harm), fitted by
``python -m flows.safety.train`` and shipped as a JSON file of weights, so start-up never trains
and nothing is downloaded. Thresholds were chosen on a validation split to favour recall: a false
alarm costs a gentle "if you are not safe, here is help", a miss can cost a life.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_WEIGHTS = Path(__file__).parent / "data" / "model" / "weights.json"
CLASSES = ("none", "violence", "self_harm")
FORMAT = 1


class WeightsError(ValueError):
    """The weights file is missing or does not fit the model it claims."""


@dataclass(frozen=True)
class Verdict:
    """The model's reading of one message: a label and the chance that it tells of danger."""

    label: str
    score: float  # 1 - P(none)

    @property
    def flagged(self) -> bool:
        return self.label != "none"


@dataclass(frozen=True)
class Classifier:
    weights: np.ndarray  # (classes, dim)
    bias: np.ndarray  # (classes,)
    danger_threshold: float  # flag when 1 - P(none) reaches it
    self_harm_share: float  # a flagged message is self_harm when P(sh) / P(danger) reaches it
    info: dict[str, object]
    prefix: str = "query"  # what e5 read before each text when these weights were fitted

    @property
    def dim(self) -> int:
        return int(self.weights.shape[1])

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        logits = np.atleast_2d(vectors) @ self.weights.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        odds = np.exp(logits)
        return odds / odds.sum(axis=1, keepdims=True)

    def classify(self, vectors: np.ndarray) -> list[Verdict]:
        return [self.verdict(row) for row in self.probabilities(vectors)]

    def verdict(self, probabilities: np.ndarray) -> Verdict:
        none, violence, self_harm = (float(p) for p in probabilities)
        danger = violence + self_harm
        if danger < self.danger_threshold:
            return Verdict("none", danger)
        share = self_harm / danger if danger > 0 else 0.0
        return Verdict("self_harm" if share >= self.self_harm_share else "violence", danger)

    def to_json(self) -> dict[str, object]:
        return {
            "format": FORMAT,
            "classes": list(CLASSES),
            "prefix": self.prefix,
            "danger_threshold": round(self.danger_threshold, 4),
            "self_harm_share": round(self.self_harm_share, 4),
            "bias": [round(float(b), 6) for b in self.bias],
            "weights": [[round(float(w), 6) for w in row] for row in self.weights],
            "info": self.info,
        }


def load_classifier(path: Path | None = None) -> Classifier:
    """Read the shipped weights; raise WeightsError saying what is wrong."""
    path = Path(path or DEFAULT_WEIGHTS)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise WeightsError(f"{path.name}: cannot read the weights ({error})") from None
    try:
        if data["format"] != FORMAT or tuple(data["classes"]) != CLASSES:
            raise WeightsError(f"{path.name}: format {data['format']} of {data['classes']}")
        weights = np.asarray(data["weights"], dtype=np.float32)
        bias = np.asarray(data["bias"], dtype=np.float32)
        threshold, share = float(data["danger_threshold"]), float(data["self_harm_share"])
        prefix = str(data.get("prefix", "query"))
    except (KeyError, TypeError, ValueError) as error:
        raise WeightsError(f"{path.name}: not a weights file ({error})") from None
    if weights.ndim != 2 or weights.shape[0] != len(CLASSES) or bias.shape != (len(CLASSES),):
        raise WeightsError(f"{path.name}: weights of shape {weights.shape} do not fit")
    return Classifier(weights, bias, threshold, share, dict(data.get("info") or {}), prefix)
