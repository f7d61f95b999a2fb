"""Danger-signal screening: does an inbound message say she is hurt, threatened or wants to die?

Every message of a woman who may be living with violence passes through `screen` so the flow can
offer help at once. The phrases live in YAML lexicons that coordinators extend
(``flows/safety/data/lexicons/<lang>.yaml``, schema in each file's header), read by
`lexicon_files`, spelled one way by `normalisation` and applied by `matcher`. It is pure and
network-free, and never logs or keeps the user's text.
"""

from __future__ import annotations

from pathlib import Path

from flows.safety.lexicon_files import LexiconError, read_lexicon_file
from flows.safety.matcher import LABELS, NONE, LexiconEntry, Lexicons, Screening
from flows.safety.normalisation import clauses, normalize

__all__ = [
    "DEFAULT_LEXICON_DIR", "LABELS", "NONE", "LexiconEntry", "LexiconError", "Lexicons",
    "Screening", "clauses", "load_lexicons", "normalize", "screen",
]  # fmt: skip

DEFAULT_LEXICON_DIR = Path(__file__).parent / "data" / "lexicons"

_CACHE: dict[Path, Lexicons] = {}


def load_lexicons(lexicon_dir: Path | None = None) -> Lexicons:
    """Load, check and compile every ``*.yaml`` lexicon in a folder; cached per folder.

    Raises LexiconError ("file:line: problem") for the first problem found.
    """
    given = Path(lexicon_dir or DEFAULT_LEXICON_DIR)
    # Every message is screened: a hit on an absolute folder costs no file system call.
    cached = _CACHE.get(given) if given.is_absolute() else None
    if cached is not None:
        return cached
    folder = given.resolve()
    cached = _CACHE.get(folder)
    if cached is not None:
        if given.is_absolute():
            _CACHE[given] = cached
        return cached
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise LexiconError(f"{folder.name}:0: no *.yaml lexicon files in {folder}")
    lexicons = Lexicons([read_lexicon_file(path) for path in files])
    _CACHE[folder] = lexicons
    if given.is_absolute():
        _CACHE[given] = lexicons
    return lexicons


def screen(text: str, lexicon_dir: Path | None = None) -> Screening:
    """Screen one message against all lexicons (language-agnostic).

    Label ``self_harm`` wins over ``violence`` when both match; ``none`` when nothing does.
    Negated, idiomatic and general-talk uses of a phrase do not count.
    """
    return load_lexicons(lexicon_dir).screen(text)
