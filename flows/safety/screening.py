"""Danger-signal screening: does an inbound message say she is hurt, threatened or wants to die?

Every message of a woman who may be living with violence passes through `screen` so the flow can
offer help at once. The phrases live in YAML lexicons that coordinators extend
(``flows/safety/data/lexicons/<lang>.yaml``, schema in each file's header); this module only
normalises text and applies them. It is pure and network-free, and never logs or keeps the
user's text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import yaml

from flows.data_files import yaml_problem

DEFAULT_LEXICON_DIR = Path(__file__).parent / "data" / "lexicons"

LABELS = ("violence", "self_harm")
NONE = "none"
LONG_GAP = 5  # how many words `...` in a phrase may skip
MIN_STEM = 3  # a shorter stem would match half the dictionary
FUZZY_STEM_MIN = 8  # shorter stems stay exact: "strangl*" must not match "strangers"
MAX_MATCHES = 16  # per phrase and start word; enough to find one that is not negated


class LexiconError(ValueError):
    """A lexicon file cannot be used; the message reads ``file:line: problem``."""


@dataclass(frozen=True)
class Screening:
    """The verdict on one message: a label and the ids of the lexicon entries that fired.

    ``cues`` are entry ids such as ``"en:physical_violence"``, never words of the message.
    """

    label: str
    cues: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return self.label != NONE


# --- Normalisation -------------------------------------------------------------------------------
# Everything is reduced to one spelling so that a phrase written once in a lexicon matches the
# many ways women actually type it: any case, with or without diacritics, Arabic or Persian
# keyboard letters, Cyrillic or Latin letters for Russian and Ukrainian.

_APOSTROPHES = "'’‘ʼʹ`´′＇"
_ARABIC_SCRIPT = {
    "ي": "ی", "ى": "ی", "ئ": "ی", "ك": "ک", "ة": "ه", "ۀ": "ه", "ٱ": "ا", "ـ": "",
    "ٲ": "ا", "ٳ": "ا",
}  # fmt: skip
_DIGITS = {chr(base + i): str(i) for base in (0x0660, 0x06F0) for i in range(10)}
_LATIN_EXTRA = {"ł": "l", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "ı": "i"}
# Cyrillic to a Latin spelling close to how people type Russian and Ukrainian in Latin letters.
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "e", "є": "ye",
    "ж": "zh", "з": "z", "и": "i", "і": "i", "ї": "yi", "й": "i", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh",
    "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e",
    "ю": "yu", "я": "ya",
}  # fmt: skip
_TABLE = str.maketrans(
    {c: "" for c in _APOSTROPHES} | _ARABIC_SCRIPT | _DIGITS | _LATIN_EXTRA | _CYRILLIC
)
_INVISIBLE = {"Mn", "Me", "Cf"}  # diacritics, Arabic harakat, ZWNJ/ZWJ and direction marks
_PERSIAN_PREFIX = re.compile(r"(?<!\w)(ن?می)\s+(?=\w)")  # "می زنه" is typed for "می‌زنه"
# The Latin skeleton: spellings that vary between people (and between translit schemes) collapse.
_SKELETON = (
    (re.compile(r"shch|sch"), "sh"),
    (re.compile(r"kh|x"), "h"),
    (re.compile(r"zh"), "z"),
    (re.compile(r"w"), "v"),
    (re.compile(r"[jy]"), "i"),
    (re.compile(r"([a-z])\1+"), r"\1"),
    (re.compile(r"(?<=[b-df-hk-np-tvz])i(?=[aeou])"), ""),  # menya/menja/mena, b'et/bjet
    (re.compile(r"([a-z])\1+"), r"\1"),
)
_LATIN_RUN = re.compile(r"[a-z]+")


def _skeleton(match: re.Match[str]) -> str:
    word = match.group()
    for pattern, replacement in _SKELETON:
        word = pattern.sub(replacement, word)
    return word


def normalize(text: str) -> str:
    """Reduce text to the one spelling lexicon phrases are compared in (see the comment above)."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE)
    text = _PERSIAN_PREFIX.sub(r"\1", text.translate(_TABLE))
    return _LATIN_RUN.sub(_skeleton, text)


# Clause boundaries: a negation or a phrase never reaches across them.
_CLAUSE_SPLIT = re.compile(r"[.!?;,:…\n\r()\[\]{}«»\"“”„؟،؛|/\\]+|\s[-–—]+\s|[–—]")
_WORD = re.compile(r"[^\W_]+")


def clauses(text: str) -> list[list[str]]:
    """Split text into clauses of normalised words."""
    found = (_WORD.findall(part) for part in _CLAUSE_SPLIT.split(normalize(text)))
    return [words for words in found if words]


# --- Phrase patterns -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Atom:
    kind: str  # "word", "prefix" or "suffix"
    text: str
    fuzzy: bool


@dataclass(frozen=True)
class _Slot:
    atoms: tuple[_Atom, ...]
    gap: int  # how many other words may come between the previous slot and this one


@dataclass(frozen=True)
class _Pattern:
    text: str  # as written in the lexicon, for explaining a match
    slots: tuple[_Slot, ...]


def _parse_phrase(phrase: str, gap: int, fuzzy_min: int) -> _Pattern:
    """Compile one phrase of the lexicon syntax; raise ValueError saying what is wrong."""
    raw = _PERSIAN_PREFIX.sub(r"\1", phrase.replace("\u200c", ""))
    slots: list[_Slot] = []
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
                slots.append(_Slot(atoms, next_gap if i == 0 else 0))
            next_gap = gap
            continue
        atoms: list[_Atom] = []
        for alt in alternatives:
            atoms.extend(_alternative_atoms(alt, fuzzy_min))
        slots.append(_Slot(tuple(dict.fromkeys(atoms)), next_gap))
        next_gap = gap
    if not slots:
        raise ValueError("empty phrase")
    if next_gap == LONG_GAP and raw.split()[-1] in ("...", "…"):
        raise ValueError("a phrase cannot end with '...'")
    return _Pattern(phrase, tuple(slots))


def _alternative_atoms(alt: str, fuzzy_min: int) -> tuple[_Atom, ...]:
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


def _word_atoms(raw: str, word: str, kind: str, fuzzy: bool) -> tuple[_Atom, ...]:
    atoms = [_Atom(kind, word, fuzzy)]
    # Ukrainians typing in Latin letters write Cyrillic г as "h", Russians as "g": accept both.
    if "г" in raw.casefold():
        variant = [w for c in clauses(raw.casefold().replace("г", "х")) for w in c]
        if len(variant) == 1 and variant[0] != word:
            atoms.append(_Atom(kind, variant[0], fuzzy))
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


class _AtomIndex:
    """Finds, for one word of a message, every lexicon atom it matches (exactly or with a typo)."""

    def __init__(self, atoms: Iterable[_Atom], fuzzy_min: int) -> None:
        self.ids: dict[_Atom, int] = {}
        self._words: dict[str, list[int]] = {}
        self._prefixes: dict[str, list[int]] = {}
        self._suffixes: dict[str, list[int]] = {}
        self._fuzzy_words: dict[str, list[int]] = {}
        self._fuzzy_stems: dict[str, list[int]] = {}
        self._fuzzy_min = fuzzy_min
        self.atoms: list[_Atom] = []
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


# --- Lexicons ------------------------------------------------------------------------------------


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
class _FileSpec:
    """One checked lexicon file, not yet compiled."""

    language: str
    entries: list[tuple[str, str, list[_Pattern]]]
    negations: list[_Atom]
    breaks: list[_Atom]
    window: int
    exceptions: list[_Pattern]
    exclusions: list[_Pattern]
    fuzzy_min: int


class Lexicons:
    """All loaded lexicons compiled into one matcher; build it with `load_lexicons`."""

    def __init__(self, files: list[_FileSpec]) -> None:
        entries: list[LexiconEntry] = []
        cue_phrases: list[tuple[int, str, _Pattern]] = []
        for spec in files:
            for entry_id, label, patterns in spec.entries:
                cue_phrases.extend((len(entries), spec.language, p) for p in patterns)
                texts = tuple(p.text for p in patterns)
                entries.append(LexiconEntry(spec.language, entry_id, label, texts))
        self.entries = tuple(entries)
        self.languages = tuple(sorted(spec.language for spec in files))
        all_atoms: list[_Atom] = []
        for _, _, pattern in cue_phrases:
            all_atoms.extend(a for s in pattern.slots for a in s.atoms)
        for spec in files:
            all_atoms.extend(spec.negations + spec.breaks)
            for pattern in spec.exclusions + spec.exceptions:
                all_atoms.extend(a for s in pattern.slots for a in s.atoms)
        self._index = _AtomIndex(all_atoms, min(spec.fuzzy_min for spec in files))
        ids = self._index.ids

        def compile_(owner: int, language: str, pattern: _Pattern) -> _Phrase:
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


# --- Loading and validation ----------------------------------------------------------------------

_TOP_KEYS = {
    "language", "entries", "negations", "breaks", "negation_window", "negation_exceptions",
    "idioms", "general_talk", "gap", "fuzzy_min_length", "notes",
}  # fmt: skip
_ENTRY_KEYS = {"id", "label", "phrases", "note"}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_CACHE: dict[Path, Lexicons] = {}
DEFAULT_FUZZY_MIN = 5


class _FileChecker:
    """Walks one YAML node tree and reports problems as ``file:line: problem``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, node: yaml.Node | None, problem: str) -> LexiconError:
        line = node.start_mark.line + 1 if node is not None else 1
        return LexiconError(f"{self.path.name}:{line}: {problem}")

    def mapping(self, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping of keys to values")
        result: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise self.fail(key, f"{what} has a key that is not plain text")
            if key.value in result:
                raise self.fail(key, f"duplicate key {key.value!r} in {what}")
            result[key.value] = (key, value)
        return result

    def text(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            raise self.fail(node, f"{what} must be non-empty text")
        return str(node.value).strip()

    def texts(self, node: yaml.Node, what: str) -> list[tuple[yaml.Node, str]]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return [(item, self.text(item, f"each item of {what}")) for item in node.value]

    def integer(self, node: yaml.Node, what: str, low: int, high: int) -> int:
        value = self.text(node, what)
        if not value.isdigit() or not low <= int(value) <= high:
            raise self.fail(node, f"{what} must be a whole number from {low} to {high}")
        return int(value)


def _read_file(path: Path) -> _FileSpec:
    """Parse and check one lexicon file; return its pieces ready for compiling."""
    check = _FileChecker(path)
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        raise LexiconError(f"{path.name}:{yaml_problem(error)}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise LexiconError(f"{path.name}:1: cannot read: {error}") from None
    if root is None:
        raise LexiconError(f"{path.name}:1: the file is empty")
    top = check.mapping(root, "the file")
    for name, (key, _) in top.items():
        if name not in _TOP_KEYS:
            raise check.fail(key, f"unknown key {name!r} (known: {', '.join(sorted(_TOP_KEYS))})")
    for required in ("language", "entries"):
        if required not in top:
            raise check.fail(root, f"missing key {required!r}")
    language = check.text(top["language"][1], "language")
    if language != path.stem:
        raise check.fail(top["language"][1], f"language {language!r} must match the file name")
    gap = check.integer(top["gap"][1], "gap", 0, 3) if "gap" in top else 1
    fuzzy_min = (
        check.integer(top["fuzzy_min_length"][1], "fuzzy_min_length", 3, 20)
        if "fuzzy_min_length" in top
        else DEFAULT_FUZZY_MIN
    )
    window = (
        check.integer(top["negation_window"][1], "negation_window", 0, 5)
        if "negation_window" in top
        else 2
    )

    def phrase(node: yaml.Node, text: str) -> _Pattern:
        try:
            return _parse_phrase(text, gap, fuzzy_min)
        except ValueError as error:
            raise check.fail(node, f"bad phrase {text!r}: {error}") from None

    def single_words(key: str) -> list[_Atom]:
        if key not in top:
            return []
        atoms: list[_Atom] = []
        for node, text in check.texts(top[key][1], key):
            slots = phrase(node, text).slots
            if len(slots) != 1:
                raise check.fail(node, f"{key} are single words; {text!r} is not")
            # Exact only: a typo-tolerant "wasnt" would turn every "want" into a negation.
            atoms.extend(_Atom(a.kind, a.text, False) for a in slots[0].atoms)
        return atoms

    entries_node = top["entries"][1]
    if not isinstance(entries_node, yaml.SequenceNode) or not entries_node.value:
        raise check.fail(entries_node, "entries must be a non-empty list")
    entries: list[tuple[str, str, list[_Pattern]]] = []
    seen_ids: set[str] = set()
    for item in entries_node.value:
        fields = check.mapping(item, "an entry")
        for name, (key, _) in fields.items():
            if name not in _ENTRY_KEYS:
                known = ", ".join(sorted(_ENTRY_KEYS))
                raise check.fail(key, f"unknown entry key {name!r} (known: {known})")
        for required in ("id", "label", "phrases"):
            if required not in fields:
                raise check.fail(item, f"entry is missing {required!r}")
        entry_id = check.text(fields["id"][1], "id")
        if not _ID.match(entry_id):
            raise check.fail(fields["id"][1], f"id {entry_id!r}: use lower-case letters, digits, _")
        if entry_id in seen_ids:
            raise check.fail(fields["id"][1], f"duplicate id {entry_id!r}")
        seen_ids.add(entry_id)
        label = check.text(fields["label"][1], "label")
        if label not in LABELS:
            known = ", ".join(LABELS)
            raise check.fail(fields["label"][1], f"unknown label {label!r} (use {known})")
        texts = check.texts(fields["phrases"][1], "phrases")
        if not texts:
            raise check.fail(fields["phrases"][1], "phrases must not be empty")
        entries.append((entry_id, label, [phrase(node, text) for node, text in texts]))

    def phrase_list(key: str) -> list[_Pattern]:
        if key not in top:
            return []
        return [phrase(node, text) for node, text in check.texts(top[key][1], key)]

    return _FileSpec(
        language=language,
        entries=entries,
        negations=single_words("negations"),
        breaks=single_words("breaks"),
        window=window,
        exceptions=phrase_list("negation_exceptions"),
        exclusions=phrase_list("idioms") + phrase_list("general_talk"),
        fuzzy_min=fuzzy_min,
    )


def load_lexicons(lexicon_dir: Path | None = None) -> Lexicons:
    """Load, check and compile every ``*.yaml`` lexicon in a folder; cached per folder.

    Raises LexiconError ("file:line: problem") for the first problem found.
    """
    folder = Path(lexicon_dir or DEFAULT_LEXICON_DIR).resolve()
    cached = _CACHE.get(folder)
    if cached is not None:
        return cached
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise LexiconError(f"{folder.name}:0: no *.yaml lexicon files in {folder}")
    lexicons = Lexicons([_read_file(path) for path in files])
    _CACHE[folder] = lexicons
    return lexicons


def screen(text: str, lexicon_dir: Path | None = None) -> Screening:
    """Screen one message against all lexicons (language-agnostic).

    Label ``self_harm`` wins over ``violence`` when both match; ``none`` when nothing does.
    Negated, idiomatic and general-talk uses of a phrase do not count.
    """
    return load_lexicons(lexicon_dir).screen(text)
