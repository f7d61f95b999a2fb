"""Every text a user can see exists in all six catalogs, with the same placeholders."""

import ast
import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from i18n import LANGUAGES, RIGHT_TO_LEFT, translate

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ("flows", "handlers", "bot")
TEXT_ID = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)+$")
CALLS_WITH_TEXT_ID = {"reply", "Button", "OutboundMessage", "N_", "msgid", "alert_coordinators"}


def catalog(language: str) -> dict[str, str]:
    path = ROOT / "i18n" / language / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as handle:
        return {m.id: m.string for m in read_po(handle, locale=language) if m.id}


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
    english = catalog("en")
    assert english, "the English catalog is empty"
    for language in LANGUAGES:
        texts = catalog(language)
        missing = sorted(k for k in english if not texts.get(k, "").strip())
        assert not missing, f"{language} lacks {missing[:10]}"
        extra = sorted(set(texts) - set(english))
        assert not extra, f"{language} has texts English lacks: {extra[:10]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders(language):
    english, texts = catalog("en"), catalog(language)
    wrong = [k for k in english if placeholders(english[k]) != placeholders(texts.get(k, ""))]
    assert not wrong, f"{language}: placeholders differ in {wrong[:10]}"


def test_every_text_id_used_in_the_code_is_in_the_catalog():
    missing = sorted(text_ids_in_code() - set(catalog("en")))
    assert not missing, f"text ids used in code but missing from the catalogs: {missing}"


def test_right_to_left_catalogs_are_written_in_their_script():
    for language in RIGHT_TO_LEFT:
        texts = {k: v for k, v in catalog(language).items() if not k.startswith("language.")}
        arabic_script = sum(1 for t in texts.values() if re.search(r"[\u0600-\u06FF]", t))
        assert arabic_script >= len(texts) * 0.9


def test_translate_falls_back_to_english_and_fills_parameters():
    assert translate("fa", "welcome.no_such_text") == "welcome.no_such_text"
    assert translate("xx-YY", "menu.about") == translate("en", "menu.about")
    assert "{" not in translate("pl", "error.generic", {"unused": 1})
