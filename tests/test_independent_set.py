"""The independent evaluation set of the danger screen: well formed, and shares no message with
the data the screen was built from (so measuring on it stays honest)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from flows.safety.evaluation import DANGER, DEFAULT_LABELLED_DIR, load_examples

INDEPENDENT_DIR = Path(__file__).parent / "data" / "independent"
LANGUAGES = ("en", "pl", "uk", "ru", "fa", "ar")
# The set written together with the lexicons: the independent set must not repeat it either.
LEXICON_SET = Path(__file__).parent / "data" / "danger_signals.jsonl"


def key(text: str) -> str:
    return " ".join(text.casefold().split())


def test_every_language_loads_with_enough_valid_lines():
    examples = load_examples(INDEPENDENT_DIR)  # raises on a malformed line or unknown label
    assert sorted(p.stem for p in INDEPENDENT_DIR.glob("*.jsonl")) == sorted(LANGUAGES)
    per_language = Counter(e.lang for e in examples)
    assert set(per_language) == set(LANGUAGES)
    for lang in LANGUAGES:
        assert per_language[lang] >= 80, lang
        labels = Counter(e.label for e in examples if e.lang == lang)
        assert set(labels) == {"none", *DANGER}, (lang, labels)
    for path in INDEPENDENT_DIR.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            assert row["lang"] == path.stem, row
            assert row["text"].strip() and row["category"] and row["register"], row
    # No message twice within a language ("2" is the same in several, and that is fine).
    assert len({(e.lang, key(e.text)) for e in examples}) == len(examples)


def test_no_message_is_shared_with_the_training_data_or_the_lexicon_set():
    independent = {key(e.text) for e in load_examples(INDEPENDENT_DIR)}
    labelled = {key(e.text) for e in load_examples(DEFAULT_LABELLED_DIR)}
    assert len(labelled) >= 1000  # the training data really was read
    lexicon_set = {
        key(json.loads(line)["text"])
        for line in LEXICON_SET.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    assert not independent & labelled
    assert not independent & lexicon_set
