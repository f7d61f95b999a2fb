"""A supporter's own words: a disclosure she relays, or a proposal to meet or leave the bot."""

import pytest

from flows.safety.boundaries import boundary_kind
from tests.support import World, running_service


async def connect(world: World, seeker, supporter) -> int:
    request_id = await world.ask_for_help(seeker, topic="emotional")
    accept = [c for c in supporter.choices("offer:") if ":accept:" in c]
    await supporter.tap(accept[0])
    return request_id


@pytest.mark.parametrize(
    "text, kind",
    [("let's meet up for a coffee on saturday", "meet"), ("come to my place after work", "meet"),
     ("whatsapp me, it is easier", "off_bot"), ("give me your number", "off_bot"),
     ("spotkajmy się w kawiarni", "meet"), ("давай встретимся у метро", "meet"),
     ("давай зустрінемося завтра", "meet"), ("напиши мне в телеграм", "off_bot"),
     ("بیا همو ببینیم", "meet"), ("شماره‌تو بده", "off_bot"), ("خلينا نتلاقى بكرا", "meet"),
     ("عطيني رقمك", "off_bot"),
     ("I am here for you, take your time", None), ("we can go on here tomorrow", None),
     ("she will meet the lawyer tomorrow", None), ("the meeting at the office went well", None)],
)  # fmt: skip
def test_proposals_to_meet_or_leave_the_bot_are_recognised(text, kind):
    assert boundary_kind(text) == kind


async def test_a_supporter_proposing_to_meet_is_flagged_once_and_her_words_still_go(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord One")
        supporter = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("h1")
        request_id = await connect(world, her, supporter)

        await supporter.text("we could meet up for a coffee on saturday")
        assert any("meet up for a coffee" in t for t in her.texts), "not blocked"
        alerts = [t for t in coordinator.texts if "meeting in person" in t]
        assert len(alerts) == 1 and f"R{request_id}" in alerts[0]
        assert "coffee" not in alerts[0] and "Sup One" not in alerts[0]

        await supporter.text("or come to my place after work")
        assert len([t for t in coordinator.texts if "meeting in person" in t]) == 1


async def test_a_disclosure_the_supporter_relays_reaches_a_coordinator(database_url):
    async with running_service(
        database_url, screen_model=True, screen_model_wait_seconds=120
    ) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord One")
        supporter = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("h1")
        request_id = await connect(world, her, supporter)
        before = len(her.texts)

        await supporter.text("you told me he hit you again, I am worried he will kill you")
        alerts = [t for t in coordinator.texts if "supporter's words" in t]
        assert len(alerts) == 1 and f"R{request_id}" in alerts[0] and "violence" in alerts[0]
        assert not any("800 120 002" in t for t in supporter.texts), "no help paths to her"
        assert len(her.texts) == before + 1  # only the supporter's words reached her
