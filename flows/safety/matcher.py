"""The matching engine: all lexicons compiled into one matcher that labels a message.

A phrase counts when its words appear in order within one clause, and neither a negation just
before it nor an idiom or general-talk phrase over it cancels it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from flows.safety.normalisation import clauses
from flows.safety.phrases import Atom, AtomIndex, PhrasePattern

LABELS = ("violence", "self_harm")
NONE = "none"
MAX_MATCHES = 16  # per phrase and start word; enough to find one that is not negated


@dataclass(frozen=True)
class Screening:
    """The verdict on one message: a label and the ids of the lexicon entries that fired.

    ``cues`` are entry ids such as ``"en:physical_violence"``, never words of the message.
    ``score`` (0-1, the sentence model's chance of danger) orders the queue by risk; ``source``
    says which layer flagged it: ``lexicon``, ``model``, ``both`` or ``""`` (see `layered`).
    """

    label: str
    cues: tuple[str, ...] = ()
    score: float = 0.0
    source: str = ""

    @property
    def flagged(self) -> bool:
        return self.label != NONE


@dataclass(frozen=True)
class LexiconEntry:
    """One danger signal of one language: its id, its label and the phrases that express it."""

    language: str
    id: str
    label: str
    phrases: tuple[str, ...]

    @property
    def cue(self) -> str:
        return f"{self.language}:{self.id}"


@dataclass(frozen=True)
class _Phrase:
    owner: int  # index of the entry, or -1 for an exclusion (idiom, general talk)
    language: str
    text: str
    slots: tuple[tuple[frozenset[int], int], ...]  # (atom ids, gap) per slot


@dataclass
class _Language:
    negations: set[int] = field(default_factory=set)
    breaks: set[int] = field(default_factory=set)
    window: int = 2
    exceptions: list[_Phrase] = field(default_factory=list)


@dataclass(frozen=True)
class _Match:
    phrase: _Phrase
    positions: tuple[int, ...]

    @property
    def span(self) -> tuple[int, int]:
        return self.positions[0], self.positions[-1]


@dataclass
class LexiconSpec:
    """One checked lexicon file, not yet compiled."""

    language: str
    entries: list[tuple[str, str, list[PhrasePattern]]]
    negations: list[Atom]
    breaks: list[Atom]
    window: int
    exceptions: list[PhrasePattern]
    exclusions: list[PhrasePattern]
    fuzzy_min: int


class Lexicons:
    """All loaded lexicons compiled into one matcher; build it with `load_lexicons`."""

    def __init__(self, files: list[LexiconSpec]) -> None:
        entries: list[LexiconEntry] = []
        cue_phrases: list[tuple[int, str, PhrasePattern]] = []
        for spec in files:
            for entry_id, label, patterns in spec.entries:
                cue_phrases.extend((len(entries), spec.language, p) for p in patterns)
                texts = tuple(p.text for p in patterns)
                entries.append(LexiconEntry(spec.language, entry_id, label, texts))
        self.entries = tuple(entries)
        self.languages = tuple(sorted(spec.language for spec in files))
        all_atoms: list[Atom] = []
        for _, _, pattern in cue_phrases:
            all_atoms.extend(a for s in pattern.slots for a in s.atoms)
        for spec in files:
            all_atoms.extend(spec.negations + spec.breaks)
            for pattern in spec.exclusions + spec.exceptions:
                all_atoms.extend(a for s in pattern.slots for a in s.atoms)
        self._index = AtomIndex(all_atoms, min(spec.fuzzy_min for spec in files))
        ids = self._index.ids

        def compile_(owner: int, language: str, pattern: PhrasePattern) -> _Phrase:
            slots = tuple((frozenset(ids[a] for a in s.atoms), s.gap) for s in pattern.slots)
            return _Phrase(owner, language, pattern.text, slots)

        self._cues = [compile_(owner, lang, pattern) for owner, lang, pattern in cue_phrases]
        self._exclusions = [
            compile_(-1, spec.language, pattern) for spec in files for pattern in spec.exclusions
        ]
        self._languages = {
            spec.language: _Language(
                negations={ids[a] for a in spec.negations},
                breaks={ids[a] for a in spec.breaks},
                window=spec.window,
                exceptions=[compile_(-1, spec.language, s) for s in spec.exceptions],
            )
            for spec in files
        }
        self._cue_starts = self._first_slot_index(self._cues)
        self._exclusion_starts = self._first_slot_index(self._exclusions)
        self._exception_starts = {
            lang: self._first_slot_index(spec.exceptions) for lang, spec in self._languages.items()
        }

    @staticmethod
    def _first_slot_index(phrases: list[_Phrase]) -> dict[int, list[_Phrase]]:
        index: dict[int, list[_Phrase]] = {}
        for phrase in phrases:
            for aid in phrase.slots[0][0]:
                index.setdefault(aid, []).append(phrase)
        return index

    def screen(self, text: str) -> Screening:
        """Label one message; self_harm wins over violence when both are present."""
        found = {phrase.owner for phrase in self._fired(text)}
        if not found:
            return Screening(NONE)
        entries = [self.entries[i] for i in sorted(found)]
        label = "self_harm" if any(e.label == "self_harm" for e in entries) else "violence"
        return Screening(label, tuple(sorted({e.cue for e in entries})))

    def explain(self, text: str) -> list[tuple[str, str]]:
        """(cue, lexicon phrase) pairs that fired, so a coordinator can see why; no user text."""
        pairs = {(self.entries[p.owner].cue, p.text) for p in self._fired(text)}
        return sorted(pairs)

    def _fired(self, text: str) -> list[_Phrase]:
        if not isinstance(text, str):
            raise TypeError("screening takes the message text as a str")
        fired: list[_Phrase] = []
        for words in clauses(text):
            fired.extend(self._screen_clause([self._index.lookup(w) for w in words]))
        return fired

    def _screen_clause(self, atoms: list[frozenset[int]]) -> list[_Phrase]:
        """Phrases that match in one clause and are neither negated nor cancelled."""
        excluded = [m.span for m in _find(self._exclusion_starts, atoms)]
        fired: dict[int, _Phrase] = {}
        exempt_cache: dict[str, set[int]] = {}
        for match in _find(self._cue_starts, atoms):
            if id(match.phrase) in fired:
                continue
            start, end = match.span
            if any(s <= end and start <= e for s, e in excluded):
                continue
            language = match.phrase.language
            if language not in exempt_cache:
                exempt_cache[language] = {
                    p
                    for m in _find(self._exception_starts[language], atoms)
                    for p in range(m.span[0], m.span[1] + 1)
                }
            if not self._negated(match, atoms, self._languages[language], exempt_cache[language]):
                fired[id(match.phrase)] = match.phrase
        return list(fired.values())

    @staticmethod
    def _negated(
        match: _Match, atoms: list[frozenset[int]], language: _Language, exempt: set[int]
    ) -> bool:
        """A negation word among the skipped words of the match, or just before it."""
        start, end = match.span
        inside = set(match.positions)
        for p in range(start, end + 1):
            if p not in inside and p not in exempt and atoms[p] & language.negations:
                return True
        for p in range(start - 1, max(start - 1 - language.window, -1), -1):
            if atoms[p] & language.breaks:
                return False
            if p not in exempt and atoms[p] & language.negations:
                return True
        return False


def _find(starts: dict[int, list[_Phrase]], atoms: list[frozenset[int]]) -> Iterator[_Match]:
    """Every match of the indexed phrases in one clause."""
    seen: set[tuple[int, int]] = set()
    for pos, here in enumerate(atoms):
        for aid in here:
            for phrase in starts.get(aid, ()):
                key = (id(phrase), pos)
                if key in seen:
                    continue
                seen.add(key)
                # A cap keeps hostile input (one word repeated thousands of times) linear.
                for positions in islice(_extend(phrase.slots, 1, (pos,), atoms), MAX_MATCHES):
                    yield _Match(phrase, positions)


def _extend(
    slots: tuple[tuple[frozenset[int], int], ...],
    i: int,
    positions: tuple[int, ...],
    atoms: list[frozenset[int]],
) -> Iterator[tuple[int, ...]]:
    if i == len(slots):
        yield positions
        return
    wanted, gap = slots[i]
    last = positions[-1]
    for p in range(last + 1, min(last + 2 + gap, len(atoms))):
        if atoms[p] & wanted:
            yield from _extend(slots, i + 1, (*positions, p), atoms)
