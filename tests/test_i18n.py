"""Every text a user can see exists in all six catalogs, with the same placeholders."""

import ast
import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from i18n import LANGUAGES, RIGHT_TO_LEFT, translate
from i18n.plurals import COUNTED

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ("flows", "handlers", "bot")
TEXT_ID = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)+$")
CALLS_WITH_TEXT_ID = {"reply", "Button", "OutboundMessage", "N_", "msgid", "alert_coordinators"}


def read_catalog(language: str):
    path = ROOT / "i18n" / language / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as handle:
        return read_po(handle, locale=language)


def forms(language: str) -> dict[str, tuple[str, ...]]:
    """Every entry's text, as a tuple of its plural forms (one form for an ordinary entry)."""
    return {
        m.id if isinstance(m.id, str) else m.id[0]: m.string
        if isinstance(m.string, tuple)
        else (m.string,)
        for m in read_catalog(language)
        if m.id
    }


def catalog(language: str) -> dict[str, str]:
    """Every entry's text; a plural entry by its last (most general) form."""
    return {key: texts[-1] for key, texts in forms(language).items()}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def text_ids_in_code() -> set[str]:
    """Literal text ids passed to the calls that take one, found by reading the code."""
    found: set[str] = set()
    for directory in CODE_DIRS:
        for path in (ROOT / directory).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                first = node.args[0]
                if name in CALLS_WITH_TEXT_ID and isinstance(first, ast.Constant):
                    if isinstance(first.value, str) and TEXT_ID.match(first.value):
                        found.add(first.value)
    return found


def test_every_catalog_has_every_english_text_translated():
    english = forms("en")
    assert english, "the English catalog is empty"
    for language in LANGUAGES:
        texts = forms(language)
        missing = sorted(k for k in english if not all(t.strip() for t in texts.get(k, ("",))))
        assert not missing, f"{language} lacks {missing[:10]}"
        extra = sorted(set(texts) - set(english))
        assert not extra, f"{language} has texts English lacks: {extra[:10]}"
        fuzzy = sorted(str(m.id) for m in read_catalog(language) if m.id and m.fuzzy)
        assert not fuzzy, f"{language} has fuzzy entries: {fuzzy[:10]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders(language):
    """Every form has the English placeholders; a form may say the number in words ("two")."""
    english, texts = catalog("en"), forms(language)
    wrong = []
    for key, text in english.items():
        expected = placeholders(text)
        for form in texts.get(key, ("",)):
            found = placeholders(form)
            if found != expected and not (expected - found <= {COUNTED.get(key)} <= expected):
                wrong.append(key)
    assert not wrong, f"{language}: placeholders differ in {sorted(set(wrong))[:10]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_counted_texts_are_plural_entries_with_every_form(language):
    catalog_ = read_catalog(language)
    for text_id in COUNTED:
        entry = catalog_[text_id]
        assert entry is not None and isinstance(entry.id, tuple), f"{language}: {text_id}"
        assert len(entry.string) == catalog_.num_plurals, f"{language}: {text_id}"
    singular = [m.id for m in catalog_ if isinstance(m.id, tuple) and m.id[0] not in COUNTED]
    assert not singular, f"{language}: plural entries not declared in i18n/plurals.py: {singular}"


def test_every_text_id_used_in_the_code_is_in_the_catalog():
    missing = sorted(text_ids_in_code() - set(catalog("en")))
    assert not missing, f"text ids used in code but missing from the catalogs: {missing}"


def test_right_to_left_catalogs_are_written_in_their_script():
    for language in RIGHT_TO_LEFT:
        texts = {k: v for k, v in catalog(language).items() if not k.startswith("language.")}
        arabic_script = sum(1 for t in texts.values() if re.search(r"[\u0600-\u06FF]", t))
        assert arabic_script >= len(texts) * 0.9


def test_translate_falls_back_to_english_and_fills_parameters():
    assert translate("fa", "welcome.no_such_text").lstrip("\u200f") == "welcome.no_such_text"
    assert translate("xx-YY", "menu.about") == translate("en", "menu.about")
    assert "{" not in translate("pl", "error.generic", {"unused": 1})


def test_a_language_is_found_by_any_of_its_names_and_belarusian_reads_russian():
    from i18n import language_named, normalise_language

    assert language_named("دری") == language_named("فارسی") == language_named(" fa ") == "fa"
    assert language_named("polski") == "pl" and language_named("Deutsch") is None
    assert normalise_language("be-BY") == "ru" and normalise_language("pt") == "en"
