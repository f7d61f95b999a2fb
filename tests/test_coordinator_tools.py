"""Coordinator tools in chat and CLI: /live without words, lifting bans and suspensions, /pending
with topics, `peerline audit`, and /help that lists what each role can do."""

import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy import select

from i18n import translate
from models import AuditEntry, Match, ParticipantStatus, Report, SupporterProfile
from tests.support import TEST_SECRET, World, running_service
from tests.test_coordination import waiting_supporter
from tests.test_onboarding import a_coordinator
from tests.test_relay import connected
from tests.test_safety_guard import VIOLENT

PEERLINE = Path(sys.executable).with_name("peerline")


async def audit_rows(service, action: str) -> list[AuditEntry]:
    async with service.session_factory() as session:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return list((await session.execute(query)).scalars())


async def test_live_lists_conversations_flagged_first_without_a_word_and_is_audited(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord Dorota")
        calm, helper = await connected(world, note="my landlord keeps my deposit")
        await calm.text("Thank you, the deposit is 900 zloty")
        scared, other = await connected(world, seeker="h2", supporter="s2")
        await scared.text(VIOLENT)
        service.clock.advance(600)
        await coordinator.command("live")
        listing = coordinator.texts[-3:]
        assert listing[0].startswith("Conversations going on now: 2")
        assert listing[1].startswith("⚠ #") and "Her h2 with Sup s2" in listing[1]
        assert "Her h1 with Sup s1" in listing[2] and "Feelings, loneliness" in listing[2]
        assert "English" in listing[2] and " min" in listing[2]
        words = ("landlord", "deposit", "900", "hits", "scared")
        assert not [w for w in words for line in listing if w in line]
        [entry] = await audit_rows(service, "supervision.list")
        assert entry.details == {"count": 2} and entry.actor.startswith("participant:")
        await helper.command("live")  # a supporter is not a coordinator
        assert "Conversations going on" not in helper.texts[-1]


async def test_unban_and_unsuspend_in_the_chat_are_audited_and_she_is_told(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord")
        helper = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("h1", alias="Fern 12")
        await coordinator.command("ban", "Fern 12")
        await coordinator.command("unban", "fern 12")
        assert "Fern 12 is no longer banned" in coordinator.texts[-1]
        assert (await her.participant()).status == ParticipantStatus.ACTIVE
        await coordinator.command("unban", "Fern 12")
        assert coordinator.texts[-1] == "Fern 12 is not banned."
        await coordinator.command("suspend", "Sup One")
        await coordinator.command("unsuspend", "Sup One")
        assert "Sup One is no longer suspended" in coordinator.texts[-1]
        assert helper.texts[-1] == translate("en", "mod.unsuspended_notice")
        async with service.session_factory() as session:
            profile = await session.get(SupporterProfile, (await helper.participant()).id)
        assert not profile.suspended and not profile.on_duty  # she chooses when to come back
        await coordinator.command("unsuspend", "")
        assert "/unsuspend Iris 42" in coordinator.texts[-1]
        await coordinator.command("unsuspend", "Nobody 1")
        assert "No one is called" in coordinator.texts[-1]
        await her.command("unban", "Fern 12")  # nobody else may use them
        assert "no longer" not in her.texts[-1]
        for action in ("ban", "unban", "suspend", "unsuspend"):
            assert len(await audit_rows(service, action)) == 1, action


async def test_pending_shows_her_topics_and_what_she_would_rather_not_take(database_url):
    async with running_service(database_url) as service:
        coordinator = await a_coordinator(service, "903")
        await waiting_supporter(service, "904", "Sunny")
        _, card = await coordinator.command("pending")
        assert "Topics: Housing, Work" in card.text
        assert "Would rather not: Fear or violence at home" in card.text


async def test_help_lists_what_each_role_can_do(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord")
        helper = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("h1")
        expected = [
            (her, ("/end", "/report", "/block", "/exit", "/forget", "/sos", "/where", "/hours")),
            (helper, ("/available", "/away", "/pause", "/end", "/switch", "/handover", "/report")),
            (coordinator, ("/invite", "/pending", "/approve", "/reports", "/warn", "/ban", "/unban",
                          "/suspend", "/unsuspend", "/live", "/stats", "/campaign")),
        ]  # fmt: skip
        for person, commands in expected:
            await person.command("help")
            shown = "\n".join(person.texts[-2:])
            assert not [c for c in commands if c not in shown], (person.address, shown)


async def peerline(database_url: str, cwd: Path, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET, "ENV": "test"}
    process = await asyncio.create_subprocess_exec(
        str(PEERLINE), *args, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, out.decode(), err.decode()


async def test_the_command_line_unsuspends_and_audit_shows_every_action_with_filters(
    database_url, tmp_path
):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord")
        await world.supporter("s1", alias="Sup One")
        await coordinator.command("suspend", "Sup One")
        coordinator_id = (await coordinator.participant()).id
    code, out, err = await peerline(database_url, tmp_path, "participant", "warn", "Sup One")
    assert code == 0 and "Sup One has been sent a warning." in out, err
    code, out, err = await peerline(database_url, tmp_path, "supporter", "unsuspend", "Sup One")
    assert code == 0 and "Sup One is no longer suspended." in out, err
    code, out, _ = await peerline(database_url, tmp_path, "audit")
    assert code == 0
    lines = out.splitlines()
    assert "unsuspend" in lines[0] and lines[0].split()[2] == "cli"  # newest first
    assert any(f"participant:{coordinator_id}" in line and " suspend " in line for line in lines)
    code, out, _ = await peerline(database_url, tmp_path, "audit", "--actor", "cli")
    assert [line.split()[3] for line in out.splitlines()] == ["unsuspend", "warn"]
    code, out, _ = await peerline(database_url, tmp_path, "audit", "--action", "suspend",
                                  "--from", "2000-01-01", "--to", "2000-01-02")  # fmt: skip
    assert out.strip() == "No audit entries match."
    assert "Sup One" not in out


async def test_queue_and_load_show_waiting_requests_and_each_supporters_week(database_url):
    async with running_service(database_url, offer_top_k=1) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord")
        busy = await world.supporter("s1", alias="Sup Busy", capacity=1)
        resting = await world.supporter("s2", alias="Sup Rest", languages=["uk"])
        await resting.command("pause")
        await resting.tap("wellbeing:pause:1")
        first = await world.seeker("h1", alias="Her 1")
        await world.ask_for_help(first, note="my husband took my passport")
        await busy.tap(busy.choices("offer:accept")[-1])
        calm = await world.seeker("h2", alias="Her 2")
        await world.ask_for_help(calm, topic="housing")
        service.clock.advance(300)
        urgent = await world.seeker("h3", alias="Her 3")
        await world.ask_for_help(urgent, topic="violence", urgent=True)
        await coordinator.command("queue")
        count, top, second = coordinator.texts[-3:]
        assert count.startswith("Requests waiting: 2")
        assert top.startswith("⚠ #") and "Fear or violence at home" in top and "urgent" in top
        assert "Housing" in second and "waiting 5 min" in second
        assert not [t for t in coordinator.texts[-3:] if "passport" in t or "Her " in t]
        await coordinator.command("load")
        loads = coordinator.texts[-2:]
        assert "Sup Busy: 1 of 1 open now, 1 begun this week · on duty" in loads
        assert "Sup Rest: 0 of 2 open now, 0 begun this week · paused" in loads
        assert len(await audit_rows(service, "supervision.queue")) == 1
        assert len(await audit_rows(service, "supervision.load")) == 1


async def test_feedback_words_say_which_supporter_they_are_about(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord")
        her, helper = await connected(world)
        await her.command("end")
        await her.tap(her.choices("feedback:score")[4])
        await her.text("She listened, thank you")
        assert "with Sup s1 (score 5)" in coordinator.texts[-1]
        assert "Her h1" not in coordinator.texts[-1]


async def test_a_supporter_in_two_conversations_is_asked_which_one_her_report_is_about(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        await world.supporter("c1", role="coordinator", alias="Coord")
        first, helper = await connected(world)
        second, _ = await connected(world, seeker="h2")
        await helper.command("report")
        assert helper.texts[-1] == translate("en", "report.which")
        buttons = {b.label: b.choice for b in helper.received[-1].message.buttons}
        assert set(buttons) == {"With Her h1", "With Her h2", "Cancel"}, buttons
        await helper.tap(buttons["With Her h2"])
        await helper.tap(helper.choices("report:reason")[0])
        await helper.tap("report:excerpt:no")
        async with service.session_factory() as session:
            report = (await session.execute(select(Report))).scalar_one()
            match = await session.get(Match, report.match_id)
        assert match.seeker_id == (await second.participant()).id
        await helper.command("block")
        assert helper.texts[-1] == translate("en", "report.which")


async def test_warn_in_the_chat_reaches_her_neutrally_and_is_audited(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord")
        her = await world.seeker("h1", alias="Fern 12")
        await coordinator.command("warn", "Fern 12")
        assert coordinator.texts[-1] == "Fern 12 has been sent a warning."
        assert her.texts[-1] == translate("en", "mod.warning_notice")
        assert (await her.participant()).status == ParticipantStatus.ACTIVE
        [entry] = await audit_rows(service, "warn")
        assert entry.target == f"participant:{(await her.participant()).id}"
        await her.command("warn", "Coord")
        assert "warning" not in her.texts[-1]
