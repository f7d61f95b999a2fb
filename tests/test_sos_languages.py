"""/sos in each of the six languages, as she reads it: the numbers in their real order, her words.

The lines are laid out with the Unicode Bidi Algorithm (python-bidi), as a Persian or Arabic app
shows them; only the services' own names (Polish, by design) may stay in another language.
"""

import re

import pytest
from bidi import get_display

from flows.safety.directory import load_directory
from i18n import LANGUAGES, RIGHT_TO_LEFT
from i18n.bidi import strip_marks
from tests.support import World, running_service

NUMBERS = ("112", "800 120 002", "116 123", "+48 22 230 99 00", "+48 22 628 01 20")
# Words that leaked English into other languages before: hours, "free", the La Strada note.
ENGLISH = re.compile(r"\b(free|hours|see|call|night|urgent|mon|fri|help|line|for)\b", re.I)
NOT_WORDS = re.compile(r"https?://\S+|\b[\w.-]+\.(?:pl|org)\b|/[a-z_]+|\bKCIK\b|\bLa Strada\b")


async def sos_texts(database_url: str, language: str) -> list[str]:
    async with running_service(database_url) as service:
        her = await World.around(service).seeker("h1", language=language)
        await her.command("sos")
        await her.tap("referral:danger:yes")  # 112 first, then the other lines
        await her.tap("referral:kind:home")
        await her.tap("referral:again")
        await her.tap("referral:kind:exploited")
        return [text for text in her.texts if "☎" in text]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_sos_shows_every_number_in_its_real_order_in_her_language(database_url, language):
    texts = await sos_texts(database_url, language)
    assert texts, "no help numbers were shown"
    shown_numbers = set()
    for text in texts:
        for line in text.split("\n"):
            visible = strip_marks(line)
            for base_dir in (None, "R") if language in RIGHT_TO_LEFT else (None,):
                displayed = strip_marks(get_display(line, base_dir=base_dir))
                for number in NUMBERS:
                    if number in visible:
                        assert number in displayed, (language, base_dir, line)
                        shown_numbers.add(number)
    assert shown_numbers == set(NUMBERS)


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
async def test_sos_has_no_english_outside_the_service_names(database_url, language):
    names = sorted((s.name for s in load_directory().services("PL")), key=len, reverse=True)
    for text in await sos_texts(database_url, language):
        visible = strip_marks(text)
        for name in names:
            visible = visible.replace(name, "")
        visible = NOT_WORDS.sub("", visible)
        assert "24/7" not in visible, visible
        leaked = ENGLISH.findall(visible)
        assert not leaked, f"{language}: {leaked} in {visible}"
