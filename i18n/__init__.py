"""Per-user translation from Babel catalogs; no global `install()`, the language is explicit.

The catalogs are read from the `.po` files and compiled in memory on first use, so a checkout, an
installed wheel and the container image all speak every language, and a stale `.mo` never hides
a new text.
"""

import gettext
import io
import string
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from i18n.bidi import has_right_to_left, hold_commands, hold_numbers, isolate, shape_lines
from i18n.plurals import COUNTED, NP_

CATALOG_DIR = Path(__file__).parent
_FIRST = ("en", "pl", "uk", "ru", "fa", "ar")  # the order her language menu shows
# A language is spoken when its catalog exists: adding one is `python -m i18n.workflow add xx`.
LANGUAGES = _FIRST + tuple(
    sorted(
        path.parent.parent.name
        for path in CATALOG_DIR.glob("*/LC_MESSAGES/messages.po")
        if path.parent.parent.name not in _FIRST
    )
)
RIGHT_TO_LEFT = frozenset(
    code for code in LANGUAGES if Locale.parse(code).character_order == "right-to-left"
)
_OWN_NAMES = {  # each language named in itself; Afghan women look for Dari
    "en": "English",
    "pl": "Polski",
    "uk": "Українська",
    "ru": "Русский",
    "fa": "فارسی / دری",
    "ar": "العربية",
}
LANGUAGE_NAMES = {
    code: _OWN_NAMES.get(code) or Locale.parse(code).get_display_name(code).capitalize()
    for code in LANGUAGES
}
FALLBACK = "en"
# Languages we do not speak whose readers are best served by one we do.
CLOSEST = {"be": "ru"}

__all__ = [
    "CATALOG_DIR", "CLOSEST", "FALLBACK", "LANGUAGES", "LANGUAGE_NAMES", "NP_", "N_",
    "RIGHT_TO_LEFT", "language_named", "normalise_language", "reload_catalogs", "translate",
]  # fmt: skip


def N_(text_id: str) -> str:
    """Marks a text id for extraction where it is not passed straight to a reply."""
    return text_id


def catalog_path(language: str) -> Path:
    return CATALOG_DIR / language / "LC_MESSAGES" / "messages.po"


@cache
def _catalog(language: str) -> gettext.NullTranslations:
    path = catalog_path(language)
    if not path.exists():
        return gettext.NullTranslations() if language == FALLBACK else _catalog(FALLBACK)
    with open(path, "rb") as handle:
        catalog = read_po(handle, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def normalise_language(code: str | None, default: str = FALLBACK) -> str:
    """Map a client's language code ("uk-UA", "be", "pt") to one we speak, else the default."""
    if not code:
        return default
    base = code.split("-")[0].split("_")[0].lower()
    base = CLOSEST.get(base, base)
    return base if base in LANGUAGES else default


def language_named(text: str) -> str | None:
    """The language she typed by its code or name, or part of it ("Polski", "دری", "uk")."""
    typed = text.strip().casefold()
    for code, name in LANGUAGE_NAMES.items():
        if typed in {code, name.casefold(), *(part.strip().casefold() for part in name.split("/"))}:
            return code
    return None


def _lookup(language: str, text_id: str, count: int | None) -> str:
    """The entry's text; a plural one by its count (without a count, the form for many)."""
    for lang in (language, FALLBACK) if language != FALLBACK else (FALLBACK,):
        catalog = _catalog(lang)
        text = catalog.ngettext(text_id, text_id, 100 if count is None else count)
        if text == text_id:  # an ordinary entry
            text = catalog.gettext(text_id)
        if text != text_id:
            return text
    return text_id


def _value(language: str, value: Any) -> str:
    if isinstance(value, dict) and "msgid" in value:
        return _render(language, value["msgid"], value.get("params"))
    if isinstance(value, dict) and "msgids" in value:  # a list of texts, e.g. what was hidden
        separator = "، " if language in RIGHT_TO_LEFT else ", "
        return separator.join(_render(language, item, None) for item in value["msgids"])
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return format_decimal(value, locale=language)  # Latin digits, the locale's grouping


def _alone_on_line(before: str, after: str) -> bool:
    return (not before or before.endswith("\n")) and (not after or after.startswith("\n"))


def _placed(language: str, value: str, whole_lines: bool) -> str:
    """A value as it goes into the sentence.

    A value that fills whole lines is a block of lines, shaped line by line later. One inside a
    line is isolated in right-to-left languages always, in the others when it holds
    right-to-left letters: under the Unicode Bidi Algorithm an isolate around Latin text in a
    Latin sentence changes nothing, and codes and commands she copies stay clean.
    """
    if whole_lines:
        return value
    if language in RIGHT_TO_LEFT:
        return isolate(value)
    return isolate(hold_numbers(value)) if has_right_to_left(value) else value


def _render(language: str, text_id: str, params: dict[str, Any] | None) -> str:
    params = params or {}
    count = params.get(COUNTED.get(text_id, ""))
    if isinstance(count, str) and count.isdigit():
        count = int(count)
    count = count if isinstance(count, int) and not isinstance(count, bool) else None
    text = _lookup(language, text_id, count)
    if not params:
        return text
    try:
        pieces = list(string.Formatter().parse(text))
        out: list[str] = []
        for index, (literal, name, spec, conversion) in enumerate(pieces):
            out.append(literal)
            if name is None:
                continue
            raw = params[name]
            if conversion or spec:
                value = format(str(raw) if conversion == "s" else raw, spec or "")
            else:
                value = _value(language, raw)
            after = pieces[index + 1][0] if index + 1 < len(pieces) else ""
            out.append(_placed(language, value, _alone_on_line("".join(out), after)))
        return "".join(out)
    except (KeyError, IndexError, ValueError, TypeError):
        return text


def translate(language: str | None, text_id: str, params: dict[str, Any] | None = None) -> str:
    """The text for `text_id` in `language` (English when missing there), ready to display.

    Parameters are filled in with the language's number format and plural form, each held in
    its own direction, and every line opened in the language's direction.
    """
    lang = normalise_language(language)
    text = _render(lang, text_id, params)
    if lang in RIGHT_TO_LEFT:
        return shape_lines(hold_commands(hold_numbers(text)), right_to_left=True)
    return shape_lines(text, right_to_left=False)


def reload_catalogs() -> None:
    _catalog.cache_clear()
