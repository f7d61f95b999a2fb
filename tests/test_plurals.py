"""Numbers and the words that agree with them, for the counts a user can meet, in six languages."""

import gettext
import string

import pytest
from babel import Locale
from babel.messages.pofile import read_po

from i18n import CATALOG_DIR, LANGUAGES, translate
from i18n.bidi import strip_marks
from i18n.plurals import COUNTED, forms_of

COUNTS = (1, 2, 5, 11, 21, 22, 25, 100, 101)


def header_rule(language: str):
    with open(CATALOG_DIR / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale=language)
    return catalog.num_plurals, gettext.c2py(catalog.plural_expr)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_plural_forms_header_follows_cldr_for_every_whole_number(language):
    """The header's form index is CLDR's category, in the order GNU gettext and Weblate use."""
    count, rule = header_rule(language)
    forms = forms_of(language)
    assert count == len(forms)
    locale = Locale.parse(language)
    for n in range(0, 1201):
        category = locale.plural_form(n) if len(forms) > 1 else "other"
        assert forms[rule(n)] == category, f"{language}: {n} -> form {rule(n)}"


def test_the_arabic_header_puts_11_to_99_in_the_fifth_form_and_100_in_the_last():
    _, rule = header_rule("ar")
    assert [rule(n) for n in (0, 1, 2, 3, 10, 11, 99, 100, 101, 102, 103, 111)] == [
        0, 1, 2, 3, 3, 4, 4, 5, 5, 5, 3, 4,
    ]  # fmt: skip


WAIT = {  # safety.flood_notice: the word for "seconds" after each count
    "en": {1: "1 second:", 2: "2 seconds", 5: "5 seconds", 21: "21 seconds", 101: "101 seconds"},
    "pl": {1: "1 sekundę", 2: "2 sekundy", 5: "5 sekund", 11: "11 sekund", 21: "21 sekund",
           22: "22 sekundy", 25: "25 sekund", 100: "100 sekund", 101: "101 sekund"},
    "uk": {1: "1 секунду", 2: "2 секунди", 5: "5 секунд", 11: "11 секунд", 21: "21 секунду",
           22: "22 секунди", 25: "25 секунд", 100: "100 секунд", 101: "101 секунду"},
    "ru": {1: "1 секунду", 2: "2 секунды", 5: "5 секунд", 11: "11 секунд", 21: "21 секунду",
           22: "22 секунды", 25: "25 секунд", 100: "100 секунд", 101: "101 секунду"},
    "fa": {n: f"{n} ثانیه" for n in COUNTS},
    "ar": {1: "ثانية واحدة", 2: "ثانيتين", 5: "5 ثوانٍ", 11: "11 ثانية", 21: "21 ثانية",
           22: "22 ثانية", 25: "25 ثانية", 100: "100 ثانية", 101: "101 ثانية"},
}  # fmt: skip
DAYS = {  # intake.welcome: "deleted after N days"
    "pl": {1: "po 1 dniu", 2: "po 2 dniach", 5: "po 5 dniach", 22: "po 22 dniach"},
    "uk": {1: "через 1 день", 2: "через 2 дні", 5: "через 5 днів", 21: "через 21 день",
           22: "через 22 дні", 11: "через 11 днів"},
    "ru": {1: "через 1 день", 2: "через 2 дня", 5: "через 5 дней", 21: "через 21 день",
           22: "через 22 дня", 11: "через 11 дней", 90: "через 90 дней"},
    "ar": {1: "بعد يوم واحد", 2: "بعد يومين", 5: "بعد 5 أيام", 11: "بعد 11 يومًا",
           90: "بعد 90 يومًا", 100: "بعد 100 يوم", 101: "بعد 101 يوم"},
}  # fmt: skip


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_flood_notice_agrees_with_every_count(language):
    for n, words in WAIT[language].items():
        text = strip_marks(translate(language, "safety.flood_notice", {"seconds": n}))
        assert words in text, f"{language} {n}: {text}"


@pytest.mark.parametrize("language", sorted(DAYS))
def test_the_retention_sentence_agrees_with_every_count(language):
    for n, words in DAYS[language].items():
        text = strip_marks(translate(language, "intake.welcome", {"days": n}))
        assert words in text, f"{language} {n}: {text}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_counted_text_has_a_form_for_every_count_a_user_can_meet(language):
    for text_id, name in COUNTED.items():
        seen = set()
        english = translate("en", text_id)
        fields = {f for _, f, _, _ in string.Formatter().parse(english) if f}
        for n in COUNTS:
            params = {**{field: "R7" for field in fields}, "low": 3, name: n}
            text = strip_marks(translate(language, text_id, params))
            assert "{" not in text and text != text_id, f"{language} {text_id} {n}: {text}"
            seen.add(text)
        if language in ("pl", "uk", "ru", "ar") and name != "high":
            assert len(seen) > 2, f"{language} {text_id}: the forms never change"


def test_numbers_are_written_in_each_languages_own_way():
    assert "10,000" in strip_marks(translate("en", "safety.flood_notice", {"seconds": 10000}))
    assert "10\u00a0000" in translate("pl", "safety.flood_notice", {"seconds": 10000})
    # Persian and Arabic keep the Latin digits the help numbers use, so 112 reads the same.
    assert "20" in strip_marks(translate("fa", "match.waiting", {"minutes": 20}))
