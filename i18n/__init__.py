"""Per-user translation from Babel catalogs; no global `install()`, the language is explicit."""

import gettext
from functools import cache
from pathlib import Path
from typing import Any

CATALOG_DIR = Path(__file__).parent
LANGUAGES = ("en", "pl", "uk", "ru", "fa", "ar")
RIGHT_TO_LEFT = frozenset({"fa", "ar"})
LANGUAGE_NAMES = {  # each language named in itself
    "en": "English",
    "pl": "Polski",
    "uk": "Українська",
    "ru": "Русский",
    "fa": "فارسی",
    "ar": "العربية",
}
FALLBACK = "en"


def N_(text_id: str) -> str:
    """Marks a text id for extraction where it is not passed straight to a reply."""
    return text_id


@cache
def _catalog(language: str) -> gettext.NullTranslations:
    try:
        return gettext.translation("messages", CATALOG_DIR, languages=[language])
    except FileNotFoundError:
        if language == FALLBACK:
            return gettext.NullTranslations()
        return _catalog(FALLBACK)


def normalise_language(code: str | None, default: str = FALLBACK) -> str:
    """Map a client's language code ("uk-UA", "pt") to one we speak, else the default."""
    if not code:
        return default
    base = code.split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else default


def translate(language: str | None, text_id: str, params: dict[str, Any] | None = None) -> str:
    """The text for `text_id` in `language`, English when missing there, with params filled in."""
    lang = normalise_language(language)
    text = _catalog(lang).gettext(text_id)
    if text == text_id and lang != FALLBACK:
        text = _catalog(FALLBACK).gettext(text_id)
    if not params:
        return text
    values = {
        key: translate(lang, value["msgid"])
        if isinstance(value, dict) and "msgid" in value
        else value
        for key, value in params.items()
    }
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):
        return text


def reload_catalogs() -> None:
    _catalog.cache_clear()
