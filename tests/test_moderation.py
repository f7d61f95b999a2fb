"""Reports, blocks, suspensions and bans, from her buttons, coordinators' commands and the CLI."""

import asyncio

from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from models import (
    AuditEntry,
    Match,
    MatchStatus,
    Participant,
    ParticipantBlock,
    ParticipantStatus,
    Report,
    SupporterProfile,
)
from tests.support import TEST_SECRET, World, running_service
from tests.test_safety_guard import connect


async def one(service, model):
    async with service.session_factory() as session:
        return (await session.execute(select(model))).scalar_one()


async def test_a_report_pauses_the_conversation_and_the_coordinator_sees_only_chosen_words(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord One")
        supporter = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("h1")
        await connect(world, her, supporter)
        await supporter.text("give me your phone number, now")

        await her.command("report")
        assert her.choices("report:") == [
            "report:reason:disrespect", "report:reason:contact", "report:reason:unsafe",
            "report:reason:other", "report:cancel",
        ]  # fmt: skip
        await her.tap("report:reason:contact")
        assert her.choices("report:excerpt") == ["report:excerpt:yes", "report:excerpt:no"]
        await her.tap("report:excerpt:yes")
        await her.text("give me your phone number")

        report = await one(service, Report)
        assert (report.reason, report.excerpt, report.status) == (
            "contact",
            "give me your phone number",
            "open",
        )
        assert (await one(service, Match)).status == MatchStatus.PAUSED
        [alert] = [t for t in coordinator.texts if "New report" in t]
        assert "Asked for contact details" in alert and "give me your phone number" in alert
        assert "h1" not in alert and "Seeker" not in alert
        assert any("paused for now" in t for t in supporter.texts)
        assert "a coordinator will look at it soon" in her.texts[-1]

        before = len(supporter.texts)
        await her.text("are you still there?")
        assert not any("still there" in t for t in supporter.texts[before:])  # nothing relayed


async def test_a_report_without_words_keeps_no_excerpt(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord One")
        supporter = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("h1")
        await connect(world, her, supporter)
        await her.command("report")
        await her.tap("report:reason:disrespect")
        await her.tap("report:excerpt:no")
        assert (await one(service, Report)).excerpt is None
        assert any("New report" in t and "Disrespect" in t for t in coordinator.texts)


async def test_block_ends_the_conversation_and_the_two_are_never_matched_again(database_url):
    async with running_service(database_url, offer_top_k=5) as service:
        world = World.around(service)
        supporter = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("h1")
        await connect(world, her, supporter)
        await her.command("block")
        await her.tap("mod:block:yes")

        assert (await one(service, Match)).status == MatchStatus.ENDED
        block = await one(service, ParticipantBlock)
        me, other = await her.participant(), await supporter.participant()
        assert (block.blocker_id, block.blocked_id) == (me.id, other.id)
        assert "will not be connected with this person again" in " ".join(her.texts)

        offers_before = len(supporter.choices("offer:"))
        await world.ask_for_help(her, topic="emotional")
        assert len(supporter.choices("offer:")) == offers_before  # not offered to her again


async def test_report_and_block_outside_a_conversation_are_explained(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her = await world.seeker("h1")
        await her.command("report")
        await her.command("block")
        assert her.texts.count(her.texts[-1]) == 2 and "not in a conversation" in her.texts[-1]


async def test_a_coordinator_bans_from_a_report_and_the_banned_reaches_no_one(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord One")
        supporter = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("h1")
        await connect(world, her, supporter)
        await her.command("report")
        await her.tap("report:reason:unsafe")
        await her.tap("report:excerpt:no")

        await coordinator.command("reports")
        report = await one(service, Report)
        assert coordinator.choices("mod:") == [
            f"mod:resume:{report.id}", f"mod:end:{report.id}", f"mod:suspend:{report.id}",
            f"mod:ban:{report.id}",
        ]  # fmt: skip
        await coordinator.tap(f"mod:ban:{report.id}")

        banned = await supporter.participant()
        assert banned.status == ParticipantStatus.BLOCKED
        assert (await one(service, Match)).status == MatchStatus.ENDED
        assert (await one(service, Report)).status == "handled"
        assert supporter.texts[-1] == "This service is not available to you at the moment."
        async with service.session_factory() as session:
            entries = (await session.execute(select(AuditEntry))).scalars().all()
        actions = {(e.action, e.target) for e in entries}
        assert ("ban", f"participant:{banned.id}") in actions
        assert ("report.ban", f"report:{report.id}") in actions
        assert all("Sup One" not in str(e.details) and "Sup One" not in e.target for e in entries)

        before = len(her.texts)
        await supporter.text("hello? please answer me")
        assert her.texts[before:] == []


async def test_coordinator_commands_by_alias_and_nobody_else_may_use_them(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord One")
        supporter = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("h1", alias="Fern 12")

        await her.command("ban", "Sup One")
        assert (await supporter.participant()).status == ParticipantStatus.ACTIVE

        await coordinator.command("suspend", "sup one")
        assert "Sup One is suspended" in coordinator.texts[-1]
        await coordinator.command("ban", "Fern 12")
        assert "Fern 12 is banned" in coordinator.texts[-1]
        await coordinator.command("ban", "Nobody 99")
        assert "No one is called" in coordinator.texts[-1]
        async with service.session_factory() as session:
            profile = await session.get(SupporterProfile, (await supporter.participant()).id)
        assert profile.suspended and not profile.on_duty
        assert (await her.participant()).status == ParticipantStatus.BLOCKED


async def test_the_command_line_bans_unbans_and_suspends(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        supporter = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("h1", alias="Fern 12")
        env = {"DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET}

        def cli(*args: str):
            return CliRunner().invoke(app, list(args), env=env)

        result = await asyncio.to_thread(cli, "participant", "ban", "Fern 12")
        assert result.exit_code == 0 and "Fern 12 is banned" in result.output
        assert (await her.participant()).status == ParticipantStatus.BLOCKED
        result = await asyncio.to_thread(cli, "participant", "unban", "Fern 12")
        assert result.exit_code == 0
        assert (await her.participant()).status == ParticipantStatus.ACTIVE
        result = await asyncio.to_thread(cli, "supporter", "suspend", "Sup One")
        assert result.exit_code == 0 and "suspended" in result.output
        result = await asyncio.to_thread(cli, "participant", "ban", "Nobody")
        assert result.exit_code == 1 and "no participant called" in result.output
        async with service.session_factory() as session:
            profile = await session.get(SupporterProfile, (await supporter.participant()).id)
            actors = (await session.execute(select(AuditEntry.actor))).scalars().all()
            people = (await session.execute(select(Participant))).scalars().all()
        assert profile.suspended
        assert actors == ["cli", "cli", "cli"] and len(people) == 2


async def test_a_request_offered_to_a_suspended_supporter_goes_on_to_another_at_once(
    database_url,
):
    async with running_service(database_url, offer_top_k=1) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord One")
        first = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("h1", alias="Fern 12")
        await world.ask_for_help(her)
        assert first.choices("offer:accept") and len(first.choices("offer:accept")) == 1
        second = await world.supporter("s2", alias="Sup Two")  # on duty after the offer went out

        await coordinator.command("suspend", "Sup One")

        assert second.choices("offer:accept"), "the request must not wait for the first offer"
        await second.tap(second.choices("offer:accept")[0])
        async with service.session_factory() as session:
            from models import Match

            match = (await session.execute(select(Match))).scalar_one()
        assert match.supporter_id == (await second.participant()).id
