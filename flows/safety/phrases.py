"""The phrase syntax of the lexicons, and the index that finds which phrase words a word matches.

A phrase is words, ``a|b`` alternatives, ``stem*`` and ``*ending`` stems, ``=exact`` words and
``...`` gaps (the syntax is explained in each lexicon file's header); typos of one edit are
tolerated in long words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flows.safety.normalisation import clauses, join_persian_prefix

LONG_GAP = 5  # how many words `...` in a phrase may skip
MIN_STEM = 3  # a shorter stem would match half the dictionary
FUZZY_STEM_MIN = 8  # shorter stems stay exact: "strangl*" must not match "strangers"


@dataclass(frozen=True)
class Atom:
    kind: str  # "word", "prefix" or "suffix"
    text: str
    fuzzy: bool


@dataclass(frozen=True)
class Slot:
    atoms: tuple[Atom, ...]
    gap: int  # how many other words may come between the previous slot and this one


@dataclass(frozen=True)
class PhrasePattern:
    text: str  # as written in the lexicon, for explaining a match
    slots: tuple[Slot, ...]


def parse_phrase(phrase: str, gap: int, fuzzy_min: int) -> PhrasePattern:
    """Compile one phrase of the lexicon syntax; raise ValueError saying what is wrong."""
    raw = join_persian_prefix(phrase.replace("\u200c", ""))
    slots: list[Slot] = []
    next_gap = gap
    for token in raw.split():
        if token in ("...", "…"):
            if not slots:
                raise ValueError("a phrase cannot start with '...'")
            next_gap = LONG_GAP
            continue
        alternatives = token.split("|")
        if any(not alt for alt in alternatives):
            raise ValueError(f"empty alternative in {token!r}")
        if len(alternatives) == 1 and not re.search(r"[*=]", token):
            words = clauses(token)
            flat = [w for clause in words for w in clause]
            if not flat:
                raise ValueError(f"{token!r} has no letters")
            for i, word in enumerate(flat):
                atoms = _word_atoms(token, word, "word", fuzzy=len(word) >= fuzzy_min)
                slots.append(Slot(atoms, next_gap if i == 0 else 0))
            next_gap = gap
            continue
        atoms: list[Atom] = []
        for alt in alternatives:
            atoms.extend(_alternative_atoms(alt, fuzzy_min))
        slots.append(Slot(tuple(dict.fromkeys(atoms)), next_gap))
        next_gap = gap
    if not slots:
        raise ValueError("empty phrase")
    if next_gap == LONG_GAP and raw.split()[-1] in ("...", "…"):
        raise ValueError("a phrase cannot end with '...'")
    return PhrasePattern(phrase, tuple(slots))


def _alternative_atoms(alt: str, fuzzy_min: int) -> tuple[Atom, ...]:
    exact = alt.startswith("=")
    body = alt[1:] if exact else alt
    prefix, suffix = body.endswith("*"), body.startswith("*")
    core = body.strip("*")
    if prefix and suffix:
        raise ValueError(f"{alt!r}: use '*' at one end only")
    if "*" in core or "=" in core:
        raise ValueError(f"{alt!r}: '*' goes at the start or end of a word, '=' at the start")
    words = [w for clause in clauses(core) for w in clause]
    if len(words) != 1:
        raise ValueError(f"{alt!r} must be one word (write longer phrases as separate lines)")
    kind = "prefix" if prefix else "suffix" if suffix else "word"
    if kind != "word" and len(words[0]) < MIN_STEM:
        raise ValueError(f"{alt!r} is too short a stem: it must keep {MIN_STEM} letters")
    if kind == "word":
        fuzzy = not exact and len(words[0]) >= fuzzy_min
    else:
        fuzzy = not exact and kind == "prefix" and len(words[0]) >= FUZZY_STEM_MIN
    return _word_atoms(core, words[0], kind, fuzzy)


def _word_atoms(raw: str, word: str, kind: str, fuzzy: bool) -> tuple[Atom, ...]:
    atoms = [Atom(kind, word, fuzzy)]
    # Ukrainians typing in Latin letters write Cyrillic г as "h", Russians as "g": accept both.
    if "г" in raw.casefold():
        variant = [w for c in clauses(raw.casefold().replace("г", "х")) for w in c]
        if len(variant) == 1 and variant[0] != word:
            atoms.append(Atom(kind, variant[0], fuzzy))
    return tuple(atoms)


def _osa_at_most_one(a: str, b: str) -> bool:
    """True when a and b differ by at most one edit (insert, delete, substitute or swap)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True
        return a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    return a[i + 1 :] == b[i:] if la > lb else a[i:] == b[i + 1 :]


def _deletes(word: str) -> Iterator[str]:
    yield word
    for i in range(len(word)):
        yield word[:i] + word[i + 1 :]


class AtomIndex:
    """Finds, for one word of a message, every lexicon atom it matches (exactly or with a typo)."""

    def __init__(self, atoms: Iterable[Atom], fuzzy_min: int) -> None:
        self.ids: dict[Atom, int] = {}
        self._words: dict[str, list[int]] = {}
        self._prefixes: dict[str, list[int]] = {}
        self._suffixes: dict[str, list[int]] = {}
        self._fuzzy_words: dict[str, list[int]] = {}
        self._fuzzy_stems: dict[str, list[int]] = {}
        self._fuzzy_min = fuzzy_min
        self.atoms: list[Atom] = []
        for atom in atoms:
            if atom in self.ids:
                continue
            self.ids[atom] = len(self.atoms)
            self.atoms.append(atom)
            aid = self.ids[atom]
            table = {"word": self._words, "prefix": self._prefixes, "suffix": self._suffixes}
            table[atom.kind].setdefault(atom.text, []).append(aid)
            if atom.fuzzy:
                fuzzy = self._fuzzy_words if atom.kind == "word" else self._fuzzy_stems
                for key in _deletes(atom.text):
                    fuzzy.setdefault(key, []).append(aid)

    def lookup(self, token: str) -> frozenset[int]:
        found: set[int] = set(self._words.get(token, ()))
        n = len(token)
        for k in range(MIN_STEM, n + 1):
            found.update(self._prefixes.get(token[:k], ()))
        for k in range(0, n - MIN_STEM + 1):
            found.update(self._suffixes.get(token[k:], ()))
        if n >= self._fuzzy_min - 1:
            for key in _deletes(token):
                for aid in self._fuzzy_words.get(key, ()):
                    text = self.atoms[aid].text
                    if text[0] == token[0] and _osa_at_most_one(text, token):
                        found.add(aid)
        if n >= FUZZY_STEM_MIN - 1 and self._fuzzy_stems:
            for p in range(FUZZY_STEM_MIN - 1, n + 1):
                head = token[:p]
                for key in _deletes(head):
                    for aid in self._fuzzy_stems.get(key, ()):
                        text = self.atoms[aid].text
                        if text[0] == token[0] and _osa_at_most_one(text, head):
                            found.add(aid)
        return frozenset(found)
