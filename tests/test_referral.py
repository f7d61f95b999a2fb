"""The violence-help referral in all six languages: the right numbers, 112 first in danger."""

import pytest
from sqlalchemy import select

from flows.safety.help_lines import display_phone
from i18n import LANGUAGES, translate
from models import FlowState, HelpRequest
from tests.support import World, running_service

NUMBERS = {
    "home": ["800 120 002", "112"],
    "sexual": ["+48 22 230 99 00", "800 120 002", "112"],
    "exploited": ["+48 22 628 01 20", "+48 605 687 750", "112"],
    "self": ["116 123", "112"],
    "other": ["800 120 002", "116 123", "112"],
}


async def state_of(service, person) -> FlowState:
    async with service.session_factory() as session:
        return await session.get(FlowState, (await person.participant()).id)


def services_message(texts: list[str], number: str) -> str:
    found = [t for t in texts if number in t]
    assert found, f"{number} was not shown"
    return found[-1]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_each_kind_of_help_shows_its_numbers_in_her_language(database_url, language):
    async with running_service(database_url) as service:
        world = World.around(service)
        her = await world.seeker("h1", language=language)
        for kind, numbers in NUMBERS.items():
            await her.tap("menu:help_now")
            assert her.texts[-1] == translate(language, "referral.ask_danger")
            await her.tap("referral:danger:no")
            assert her.texts[-1] == translate(language, "referral.ask_kind")
            await her.tap(f"referral:kind:{kind}")
            shown = services_message(her.texts, numbers[0])
            for number in numbers:
                assert number in shown, (kind, number)
            # Without immediate danger 112 closes the list, after the lines for what she lives.
            assert shown.index(numbers[0]) < shown.rindex("☎ 112")
            assert her.texts[-1].startswith(translate(language, "referral.tips")[:20])
            await her.tap("referral:back")


async def test_numbers_are_written_the_way_people_dial_them():
    assert display_phone("800120002") == "800 120 002"
    assert display_phone("+48226280120") == "+48 22 628 01 20"
    assert display_phone("+48605687750") == "+48 605 687 750"
    assert display_phone("116123") == "116 123"
    assert display_phone("112") == "112"


async def test_descriptions_come_from_the_directory_in_her_language(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her = await world.seeker("h1", language="uk")
        await her.tap("menu:help_now")
        await her.tap("referral:danger:no")
        await her.tap("referral:kind:self")
        shown = services_message(her.texts, "116 123")
        assert "емоційній кризі" in shown and "Emotional" not in shown


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_immediate_danger_leads_with_112_and_alerts_a_coordinator_without_her_details(
    database_url, language
):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord One")
        her = await world.seeker("h1", language=language, alias="Fern 12")
        await her.tap("menu:help_now")
        before = len(her.texts)

        await her.tap("referral:danger:yes")

        first = her.texts[before]
        assert first.startswith(translate(language, "referral.immediate")[:15])
        assert first.index("112") < 60 and "800 120 002" not in first
        [alert] = coordinator.texts
        assert "Immediate danger" in alert and "Fern 12" not in alert and "h1" not in alert
        assert her.texts[-1] == translate(language, "referral.ask_kind_after")

        await her.tap("referral:kind:home")
        shown = services_message(her.texts, "800 120 002")
        assert shown.index("☎ 112") < shown.index("800 120 002")  # 112 first in danger
        assert "the help she needs: violence at home" in coordinator.texts[-1]


async def test_immediate_danger_makes_her_waiting_request_urgent(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        await world.supporter("s1", alias="Sup One", on_duty=False)
        her = await world.seeker("h1")
        request_id = await world.ask_for_help(her, topic="emotional")
        await her.command("sos")
        await her.tap("referral:danger:yes")
        async with service.session_factory() as session:
            assert (await session.get(HelpRequest, request_id)).urgent


async def test_she_can_leave_at_any_step_and_comes_back_where_she_was(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her = await world.seeker("h1")  # in intake, about to write her note
        before = await state_of(service, her)
        for steps in ([], ["referral:danger:no"], ["referral:danger:no", "referral:kind:home"]):
            await her.tap("menu:help_now")
            for step in steps:
                await her.tap(step)
            await her.tap("referral:back")
            after = await state_of(service, her)
            assert (after.flow, after.step) == (before.flow, before.step)
            assert her.texts[-1] == translate("en", "intake.ask_note")


async def test_talking_to_a_supporter_now_goes_to_intake_with_priority(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her = await world.seeker("h1")
        async with service.session_factory() as session, session.begin():
            state = await session.get(FlowState, (await her.participant()).id)
            state.step, state.data = "menu", {}
        await her.tap("menu:help_now")
        await her.tap("referral:danger:no")
        await her.tap("referral:kind:other")
        await her.tap("referral:supporter")
        state = await state_of(service, her)
        assert state.flow == "intake" and state.data.get("urgent") is True


async def test_typed_words_in_the_referral_get_the_question_again_not_silence(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her = await world.seeker("h1")
        await her.tap("menu:help_now")
        await her.text("I don't know")
        assert her.texts[-2:] == [
            translate("en", "referral.use_buttons"),
            translate("en", "referral.ask_danger"),
        ]
        async with service.session_factory() as session:
            assert (await session.execute(select(HelpRequest))).first() is None


async def test_in_a_conversation_the_help_button_answers_without_taking_her_out_of_it(
    database_url,
):
    from tests.test_safety_guard import connect

    async with running_service(database_url) as service:
        world = World.around(service)
        supporter = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("h1")
        await connect(world, her, supporter)
        before = await state_of(service, her)

        await her.tap("referral:open")
        assert "800 120 002" in her.texts[-2] and "/exit" in her.texts[-1]
        after = await state_of(service, her)
        assert (after.flow, after.step) == (before.flow, before.step) == ("relay", "connected")
        await her.text("thank you, I am back")
        assert "thank you, I am back" in supporter.texts[-1]


async def test_pressing_in_danger_twice_alerts_the_coordinator_once(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord One")
        her = await world.seeker("h1")
        await her.tap("menu:help_now")
        await her.tap("referral:danger:yes")
        await her.tap("referral:danger:yes")
        assert len([t for t in coordinator.texts if "Immediate danger" in t]) == 1
        assert len([t for t in her.texts if t.startswith("Please call 112 now")]) == 2


async def test_an_unknown_command_in_the_referral_is_answered_and_the_question_repeated(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        her = await world.seeker("h1")
        await her.tap("menu:help_now")
        await her.command("weather")
        assert her.texts[-2] == translate("en", "intake.unknown_command")
        assert her.texts[-1] == translate("en", "referral.ask_danger")
