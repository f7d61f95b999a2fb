"""Help she can type: a plea in any of the six languages opens the violence-help referral; in a
conversation it still reaches her supporter and she alone gets the help button."""

import pytest

from flows.safety.typed_help import is_plea
from i18n import translate
from tests.support import World, running_service

PLEAS = {
    "en": ["help", "SOS", "I need help now", "Please help me!!"],
    "pl": ["pomocy", "Potrzebuję pomocy teraz", "ratunku"],
    "uk": ["допоможіть", "Допоможіть мені, будь ласка", "потрібна допомога"],
    "ru": ["помогите", "Помогите пожалуйста!", "мне нужна помощь", "pomogite"],
    "fa": ["کمک", "کمکم کنید لطفا", "به کمک نیاز دارم"],
    "ar": ["ساعدوني", "أحتاج مساعدة الآن", "النجدة"],
}
NOT_PLEAS = ["I do not need help", "help with documents please", "thanks for the help",
             "my husband needs help", "hello", "помощь с документами"]  # fmt: skip


@pytest.mark.parametrize("language", list(PLEAS))
def test_pleas_in_each_language_and_their_variants_are_recognised(language):
    assert all(is_plea(text) for text in PLEAS[language])


def test_sentences_that_only_mention_help_are_not_pleas():
    assert not any(is_plea(text) for text in NOT_PLEAS)


async def test_a_typed_plea_in_each_of_the_six_languages_opens_the_referral(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        for number, (language, pleas) in enumerate(PLEAS.items()):
            her = await world.seeker(f"70{number}", language=language)
            await her.text(pleas[-1])
            assert her.texts[-1] == translate(language, "referral.ask_danger")
            assert "referral:danger:yes" in her.choices("referral:")


async def test_in_a_conversation_a_plea_is_relayed_and_she_alone_gets_the_help_button(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        supporter = await world.supporter("6001", alias="Willow Star")
        her = await world.seeker("7100")
        await world.ask_for_help(her)
        await supporter.tap(supporter.choices("offer:accept:")[0])
        await her.text("help")
        assert supporter.texts[-1].endswith(": help")
        assert "this button shows the numbers" in her.texts[-1]
        assert her.choices("menu:") == ["menu:help_now"]
        assert not any("numbers" in t for t in supporter.texts)
        await her.tap("menu:help_now")  # the numbers come; her conversation stays
        await her.text("thank you")
        assert supporter.texts[-1].endswith(": thank you")
