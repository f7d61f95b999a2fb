"""Normalisation: every spelling of a word reduced to one, so a lexicon phrase written once matches.

Women type in any case, with or without diacritics, on Arabic or Persian keyboards, in Cyrillic or
in Latin letters for Russian and Ukrainian; lexicon phrases and messages both pass through here.
"""

from __future__ import annotations

import re
import unicodedata

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


def join_persian_prefix(text: str) -> str:
    """Join the Persian verb prefix to its verb as the keyboard's zero-width joiner would."""
    return _PERSIAN_PREFIX.sub(r"\1", text)
