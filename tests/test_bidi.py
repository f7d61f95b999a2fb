"""Every text as a Persian or Arabic reader sees it, laid out by the Unicode Bidi Algorithm.

python-bidi implements the algorithm (with isolates). For every message id, with Latin and
Arabic-script aliases, numbers, phone numbers and commands, each line with Arabic-script words must
open right-to-left, and every number, phone number and command must display in its real order.
"""

import re
import string

import pytest
from babel.messages.pofile import read_po
from bidi import get_base_level, get_display

from i18n import CATALOG_DIR, LANGUAGES, RIGHT_TO_LEFT, translate
from i18n.bidi import has_arabic_script, strip_marks
from i18n.plurals import COUNTED

LEFT_TO_RIGHT = tuple(language for language in LANGUAGES if language not in RIGHT_TO_LEFT)
# A number as written: digit groups joined by spaces or dashes, times, 24/7.
NUMBER = re.compile(r"\+?\d+(?:[:./]\d+)*(?:(?: ?[\u2013-] ?|[ \u00a0\u202f])\d+(?:[:./]\d+)*)*")
COMMAND = re.compile(r"(?<![A-Za-z0-9_/:.])/[a-z][a-z_]*(?: (?:on|off|coordinator|\d+))?")

SERVICES = (
    "• Numer alarmowy 112\n☎ 112 (24/7)\n{free}\n\n• Niebieska Linia\n☎ 800 120 002 (24/7)\n"
    "{free}\n\n• La Strada\n☎ +48 22 628 01 20 (8:30–16:30)"
)
TEXTS = {
    "latin": "I am scared, call me at 600 123 456 or +48 22 628 01 20 tomorrow",
    "fa": "می‌ترسم، فردا با 600 123 456 یا +48 22 628 01 20 با من تماس بگیرید",
    "ar": "أنا خائفة، اتصلي بي على 600 123 456 أو +48 22 628 01 20 غدًا",
}


def english_ids() -> list[str]:
    with open(CATALOG_DIR / "en" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return sorted(m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id)


def placeholders(text_id: str) -> set[str]:
    text = translate("en", text_id, None)
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def sample_params(text_id: str, alias: str, words: str, count: int) -> dict:
    """Realistic values for each placeholder, as the flows pass them."""
    values = {
        "alias": alias, "text": words, "note": words, "excerpt": words, "caption": words,
        "ref": "R1024", "code": "K7QX2MPA", "link": "https://t.me/peerline_bot?start=K7QX2MPA",
        "language": {"msgid": "language.uk"}, "topic": {"msgid": "topic.housing"},
        "kind": {"msgid": "safety.kind_violence"}, "role": {"msgid": "coord.role_supporter"},
        "what": {"msgid": "relay.kind_photo"}, "reason": {"msgid": "report.reason_unsafe"},
        "action": {"msgid": "mod.action_ban"}, "name": "فارسی / دری", "zone": "Europe/Warsaw",
        "languages": "Polski, فارسی / دری, العربية", "low": 3, "high": 20, "most": 168,
        "score": 4, "n": 3, "last": 5, "capacity": 3, "count": count,
        "seconds": count, "minutes": count, "days": count, "hours": count, "limit": count,
    }  # fmt: skip
    params = {name: values[name] for name in placeholders(text_id) if name in values}
    if "services" in placeholders(text_id):
        params["services"] = SERVICES
    if COUNTED.get(text_id) == "high":
        params["high"] = count
    return params


def check_line(line: str, base_dir: str | None) -> list[str]:
    """What is wrong with one displayed line: direction, numbers or commands out of order."""
    problems = []
    visible = strip_marks(line)
    if not visible.strip():
        return problems
    if base_dir is None and has_arabic_script(visible) and get_base_level(line) != 1:
        problems.append("does not open right-to-left")
    shown = strip_marks(get_display(line, base_dir=base_dir))
    for number in NUMBER.findall(visible):
        if number.strip() and number not in shown:
            problems.append(f"number {number!r} shows out of order")
    for command in COMMAND.findall(visible):
        if command not in shown:
            problems.append(f"command {command!r} shows out of order")
    return problems


def rendered_variants(language: str, text_id: str):
    aliases = ("Saffron 42", "ستاره 7", "نجمة 7")
    counts = (1, 2, 5, 11, 22, 100) if text_id in COUNTED else (3,)
    for alias in aliases:
        for script, words in TEXTS.items():
            for count in counts:
                params = sample_params(text_id, alias, words, count)
                yield f"{alias}/{script}/{count}", translate(language, text_id, params)


@pytest.mark.parametrize("language", sorted(RIGHT_TO_LEFT))
def test_every_persian_and_arabic_text_displays_in_order(language):
    problems = []
    for text_id in english_ids():
        if text_id.startswith("language."):
            continue  # a language's own name, in its own script and direction
        for variant, text in rendered_variants(language, text_id):
            for line in text.split("\n"):
                for base_dir in (None, "R"):
                    for problem in check_line(line, base_dir):
                        problems.append(f"{text_id} [{variant}, {base_dir}]: {problem}: {line!r}")
    assert not problems, f"{len(problems)} problems, first: " + "\n".join(problems[:15])


@pytest.mark.parametrize("language", LEFT_TO_RIGHT)
def test_an_arabic_script_alias_or_message_never_flips_a_latin_or_cyrillic_line(language):
    problems = []
    for text_id in english_ids():
        if text_id.startswith("language."):
            continue
        for variant, text in rendered_variants(language, text_id):
            for line in text.split("\n"):
                visible = strip_marks(line)
                if not visible.strip() or not re.search(r"[A-Za-zА-яЁёІіЇїЄєҐґ]", visible):
                    continue
                if visible.startswith(("فارسی", "العربية")):
                    continue  # a line that is only a language's own name
                if get_base_level(line) != 0:
                    problems.append(f"{text_id} [{variant}]: flips right-to-left: {line!r}")
                shown = strip_marks(get_display(line))
                for number in NUMBER.findall(visible):
                    if number not in shown:
                        problems.append(f"{text_id} [{variant}]: {number!r} out of order")
    assert not problems, f"{len(problems)} problems, first: " + "\n".join(problems[:15])


def test_help_numbers_keep_their_digit_order_where_the_review_saw_them_reversed():
    for language in sorted(RIGHT_TO_LEFT):
        text = translate(language, "referral.services_home", {"services": SERVICES})
        for line in text.split("\n"):
            shown = strip_marks(get_display(line, base_dir="R"))
            for number in ("800 120 002", "+48 22 628 01 20"):
                if number in strip_marks(line):
                    assert number in shown, (language, line)
        note = translate(language, "safety.supporter_note_self_harm")
        assert "116 123" in strip_marks(get_display(note.split("\n")[0], base_dir="R")) or (
            "116 123" not in strip_marks(note.split("\n")[0])
        )


def test_a_relayed_line_takes_the_readers_direction_whatever_the_alias():
    persian = translate("fa", "relay.text", {"alias": "Saffron 42", "text": TEXTS["fa"]})
    polish = translate("pl", "relay.text", {"alias": "ستاره 7", "text": "Dzień dobry"})
    assert get_base_level(persian) == 1
    assert get_base_level(polish) == 0
    assert strip_marks(persian) == f"Saffron 42: {TEXTS['fa']}"
    assert strip_marks(polish) == "ستاره 7: Dzień dobry"
