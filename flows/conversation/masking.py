"""Hides contact details in relayed words: what people really share to meet outside the service.

Phone numbers in any national format (found by the `phonenumbers` library's matcher), web links
of any kind, e-mails (also written out: "anna at wp dot pl"), social handles with or without @,
street addresses in the six languages' usual forms and numbers spelled out as words. Peer-support
guidance forbids contact outside the service; masking protects both women even when one of them
means well. Pure functions, no network, nothing is logged.
"""

import re
from dataclasses import dataclass

import phonenumbers

from flows.conversation.mask_patterns import (
    ADDRESS,
    DIGIT,
    DIGIT_WORDS,
    EMAIL,
    HANDLE_AFTER_NETWORK,
    HANDLE_SHAPE,
    LINK,
    NUMBER_WORD_RUN,
    SPELLED_EMAIL,
    USERNAME,
)

MASK = "[•••]"
# Where the women come from and where they live now: numbers written the national way there.
REGIONS = (
    "PL", "UA", "RU", "BY", "MD", "GE", "KZ", "IR", "AF", "TJ", "SY", "IQ", "SA", "AE", "EG",
    "JO", "LB", "YE", "SD", "TR", "DE", "GB", "US",
)  # fmt: skip
# A date like 12.05.2024 or 2024-05-12 is not a phone number, even where it would dial.
_DATE = re.compile(
    rf"^(?:{DIGIT}{{1,2}}[./\-]{DIGIT}{{1,2}}[./\-]{DIGIT}{{2,4}}"
    rf"|{DIGIT}{{4}}[./\-]{DIGIT}{{1,2}}[./\-]{DIGIT}{{1,2}})$"
)
# A long run of digits the matcher did not place (an unknown plan, a number glued to words).
_SEPARATOR = r"[\s\u00A0\u200E\u200F\u202A-\u202E\-.()\u2010-\u2015]"
_DIGIT_RUN = re.compile(rf"(?<!\w)\+?{DIGIT}(?:{_SEPARATOR}{{0,3}}{DIGIT})+(?!\w)")
MIN_RUN_DIGITS = 9
MIN_PHONE_DIGITS = 6  # no number in the regions we serve is shorter
MIN_SPELLED_DIGITS = 7  # "six zero zero one two three four ..." is a number read aloud
# Direction marks typed (or pasted) between digits would split a number for the matcher.
_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_INVISIBLE = dict.fromkeys(map(ord, _MARKS), " ")


@dataclass(frozen=True)
class Masked:
    """The text with contact details hidden, and which kinds were found (for the notice)."""

    text: str
    kinds: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.kinds)


def _digits(text: str) -> int:
    return sum(1 for c in text if c.isdigit())


def _phone_spans(text: str) -> list[tuple[int, int]]:
    spans: set[tuple[int, int]] = set()
    if _digits(text) < MIN_PHONE_DIGITS:
        return []  # most messages: no number at all, and the matcher is not free
    for region in REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(text, region, phonenumbers.Leniency.VALID):
            if not _DATE.match(match.raw_string.strip()):
                spans.add((match.start, match.end))
    for match in _DIGIT_RUN.finditer(text):
        found = match.group().rstrip(" .-)\u00a0")
        if _digits(found) >= MIN_RUN_DIGITS and not _DATE.match(found):
            spans.add((match.start(), match.start() + len(found)))
    return _merged(spans)


def _spelled_number_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in NUMBER_WORD_RUN.finditer(text):
        words = re.findall(r"[^\W_]+|\d", match.group().casefold())
        count = sum(DIGIT_WORDS.get(w, len(w) if w.isdigit() else 0) for w in words)
        if count >= MIN_SPELLED_DIGITS:
            spans.append((match.start(), match.end()))
    return spans


def _merged(spans: set[tuple[int, int]] | list[tuple[int, int]]) -> list[tuple[int, int]]:
    result: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(end, result[-1][1]))
        else:
            result.append((start, end))
    return result


def _apply(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in reversed(_merged(spans)):
        text = text[:start] + MASK + text[end:]
    return text


def mask_contacts(text: str) -> Masked:
    """Replace every contact detail in `text` with a neutral mark, naming what was hidden."""
    kinds: list[str] = []
    result = text.translate(_INVISIBLE) if any(ord(c) in _INVISIBLE for c in text) else text
    for kind, pattern in (
        ("link", LINK),
        ("email", EMAIL),
        ("email", SPELLED_EMAIL),
        ("address", ADDRESS),
    ):
        spans = [m.span() for m in pattern.finditer(result)]
        if spans:
            kinds.append(kind)
            result = _apply(result, spans)
    for kind, finder in (("phone", _phone_spans), ("phone", _spelled_number_spans)):
        spans = finder(result)
        if spans:
            kinds.append(kind)
            result = _apply(result, spans)
    handles = [m.span() for m in USERNAME.finditer(result)]
    handles += [m.span("handle") for m in HANDLE_AFTER_NETWORK.finditer(result)]
    handles += [m.span() for m in HANDLE_SHAPE.finditer(result) if MASK not in m.group()]
    if handles:
        kinds.append("username")
        result = _apply(result, handles)
    if not kinds:
        return Masked(text)
    return Masked(result, tuple(dict.fromkeys(kinds)))


def has_contacts(text: str) -> bool:
    return mask_contacts(text).changed
