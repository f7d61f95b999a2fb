"""Hides contact details in relayed words: phone numbers, e-mails, @names and messenger links.

Peer-support guidance forbids contact outside the service; masking protects both women even
when one of them means well. Pure functions, no network, nothing is logged.
"""

import re
from dataclasses import dataclass

MASK = "[•••]"

# Digits in Latin, Arabic-Indic and Persian (Extended Arabic-Indic) script.
_DIGIT = r"[0-9\u0660-\u0669\u06F0-\u06F9]"
# What people put between digit groups: spaces, dashes, dots, brackets, direction marks.
_SEPARATOR = r"[\s\u00A0\u200E\u200F\u202A-\u202E\-.()\u2010-\u2015]"

_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", re.UNICODE)
_MESSENGER_LINK = re.compile(
    r"(?:(?:https?://)?(?:www\.)?"
    r"(?:wa\.me|api\.whatsapp\.com|chat\.whatsapp\.com|whatsapp\.com|t\.me|telegram\.me"
    r"|telegram\.dog|instagram\.com|instagr\.am|facebook\.com|fb\.com|fb\.me|m\.me|vk\.com"
    r"|ok\.ru|signal\.me|signal\.group|viber\.com|invite\.viber\.com|snapchat\.com"
    r"|tiktok\.com|imo\.im|line\.me|discord\.gg|discord\.com|threads\.net|x\.com|twitter\.com)"
    r"(?:/\S*)?)"
    r"|(?:(?:tg|whatsapp|viber|signal|skype)://\S*)",
    re.IGNORECASE,
)
_USERNAME = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_.]{2,}[A-Za-z0-9_]")
# A run of digits, optionally led by + or 00, with separators between groups.
_PHONE = re.compile(rf"(?<!\w)\+?{_DIGIT}(?:{_SEPARATOR}{{0,3}}{_DIGIT})+(?!\w)")
# A date like 12.05.2024 or 2024-05-12 is not a phone number.
_DATE = re.compile(
    rf"^(?:{_DIGIT}{{1,2}}[./\-]{_DIGIT}{{1,2}}[./\-]{_DIGIT}{{2,4}}"
    rf"|{_DIGIT}{{4}}[./\-]{_DIGIT}{{1,2}}[./\-]{_DIGIT}{{1,2}})$"
)
MIN_PHONE_DIGITS = 9  # Polish, Ukrainian, Russian, Iranian and Arab mobile numbers all have more
MIN_PHONE_DIGITS_WITH_PLUS = 7


@dataclass(frozen=True)
class Masked:
    """The text with contact details hidden, and which kinds were found."""

    text: str
    kinds: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.kinds)


def _digit_count(text: str) -> int:
    return sum(1 for c in text if re.fullmatch(_DIGIT, c))


def _looks_like_phone(candidate: str) -> bool:
    core = candidate.strip()
    if _DATE.match(core):
        return False
    digits = _digit_count(core)
    if core.startswith("+") or core.startswith("00"):
        return digits >= MIN_PHONE_DIGITS_WITH_PLUS
    return digits >= MIN_PHONE_DIGITS


def mask_contacts(text: str) -> Masked:
    """Replace every contact detail in `text` with a neutral mark."""
    kinds: list[str] = []

    def replace(kind: str):  # type: ignore[no-untyped-def]
        def _sub(match: re.Match[str]) -> str:
            kinds.append(kind)
            return MASK

        return _sub

    result = _MESSENGER_LINK.sub(replace("link"), text)
    result = _EMAIL.sub(replace("email"), result)
    result = _USERNAME.sub(replace("username"), result)

    def _phone(match: re.Match[str]) -> str:
        found = match.group()
        stripped = found.rstrip(" .-)\u00a0")
        if not _looks_like_phone(stripped):
            return found
        kinds.append("phone")
        return MASK + found[len(stripped) :]

    result = _PHONE.sub(_phone, result)
    return Masked(result, tuple(dict.fromkeys(kinds)))


def has_contacts(text: str) -> bool:
    return mask_contacts(text).changed
