"""Check-ins for the women who asked for help: after a conversation and after the help numbers,
in her time zone and hours, held after a quick exit, cancelled when she says so, sent once."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import VirtualClock
from bot.scheduler import JobRunner
from flows.context import FlowContext
from flows.conversation.checkins import JOB, after_referral
from flows.events import EventKind, InboundEvent
from i18n import translate
from models import FlowState, OutboxMessage, ScheduledJob
from tests.channel_support import running_edge
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.support import World, running_service
from tests.test_relay import connected
from tests.test_whatsapp_window import HER, she_writes

CHECKIN = translate("en", "care.checkin")
QUIET = translate("en", "care.checkin_quiet")
# A Monday in March: Warsaw (the deployment's zone) is UTC+1, Kyiv UTC+2.
MORNING = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def clock_at(moment: datetime) -> VirtualClock:
    return VirtualClock(moment)


async def checkin_jobs(service) -> list[ScheduledJob]:
    async with service.session_factory() as session:
        query = select(ScheduledJob).where(ScheduledJob.kind == JOB).order_by(ScheduledJob.id)
        return list((await session.execute(query)).scalars())


async def waiting_due(service) -> list[datetime]:
    return [job.due_at.astimezone(UTC) for job in await checkin_jobs(service) if not job.done_at]


def checkins_to(person, text: str = CHECKIN) -> int:
    return sum(1 for t in person.texts if t == text)


async def test_a_check_in_comes_a_day_after_the_conversation_and_she_can_say_she_is_ok(
    database_url,
):
    async with running_service(database_url, clock=clock_at(MORNING)) as service:
        world = World.around(service)
        her, helper = await connected(world)
        await her.command("end")
        assert checkins_to(helper) == 0 and await waiting_due(service)

        await world.run_jobs(after_seconds=23 * 3600)
        assert checkins_to(her) == 0
        await world.run_jobs(after_seconds=3600)
        assert checkins_to(her) == 1
        assert her.choices("care:") == ["care:ok", "care:talk", "care:stop"]
        assert checkins_to(helper) == 0  # only the woman who asked for help

        await her.tap("care:ok")
        assert her.texts[-1] == translate("en", "care.glad")
        await world.run_jobs(after_seconds=7 * 86400)
        assert checkins_to(her) == 1  # asked once


async def test_i_would_like_to_talk_again_starts_a_new_request(database_url):
    async with running_service(database_url, clock=clock_at(MORNING)) as service:
        world = World.around(service)
        her, helper = await connected(world)
        await helper.command("end")
        await world.run_jobs(after_seconds=24 * 3600)
        await her.tap("care:talk")
        assert her.texts[-1] == translate("en", "intake.ask_safe")


async def test_a_check_in_falling_at_night_is_moved_to_her_morning_not_dropped(database_url):
    evening = datetime(2026, 3, 2, 21, 30, tzinfo=UTC)  # 22:30 in Warsaw
    async with running_service(database_url, clock=clock_at(evening)) as service:
        world = World.around(service)
        her, _ = await connected(world)
        await her.command("end")
        # 24 h later is 22:30 her time: outside 09:00-21:00, so the next 09:00 after it.
        [due] = await waiting_due(service)
        assert due == datetime(2026, 3, 4, 8, 0, tzinfo=UTC)

        await world.run_jobs(after_seconds=(due - service.clock.now()).total_seconds() - 60)
        assert checkins_to(her) == 0
        await world.run_jobs(after_seconds=60)
        assert checkins_to(her) == 1


async def test_hours_she_changed_after_it_was_planned_move_it_when_it_comes_due(database_url):
    async with running_service(database_url, clock=clock_at(MORNING)) as service:
        world = World.around(service)
        her, _ = await connected(world)
        await her.command("end")
        await her.command("hours")
        assert "09:00–21:00" in her.texts[-1] and "Europe/Warsaw" in her.texts[-1]
        await her.tap("care:span:12:00-20:00")
        assert "12:00–20:00" in her.texts[-1]

        await world.run_jobs(after_seconds=24 * 3600)  # 11:00 her time: too early now
        assert checkins_to(her) == 0
        assert await waiting_due(service) == [datetime(2026, 3, 3, 11, 0, tzinfo=UTC)]
        await world.run_jobs(after_seconds=3600)
        assert checkins_to(her) == 1


async def test_her_time_zone_comes_from_her_answer_and_moves_her_hours(database_url):
    async with running_service(database_url, clock=clock_at(MORNING)) as service:
        world = World.around(service)
        her, _ = await connected(world)
        await her.command("end")
        await her.command("hours")
        await her.tap("care:time")
        assert her.texts[-1] == translate("en", "care.ask_time")
        await her.text("12:00")  # 10:00 UTC: two hours east, as in Kyiv
        assert (await her.participant()).timezone == "Europe/Kyiv"
        assert translate("en", "care.time_set", {"now": "12:00"}) in her.texts


async def test_help_numbers_bring_two_innocuous_check_ins_with_one_tap_back_to_them(
    database_url,
):
    async with running_service(database_url, clock=clock_at(MORNING)) as service:
        world = World.around(service)
        her = await world.seeker("h1", alias="Her h1")
        await her.tap("referral:danger:no")
        await her.tap("referral:kind:home")
        due = await waiting_due(service)
        assert due == [MORNING + timedelta(hours=2, seconds=4),
                       MORNING + timedelta(hours=48, seconds=4)]  # fmt: skip

        await world.run_jobs(after_seconds=2 * 3600 + 10)
        assert checkins_to(her, QUIET) == 1
        for word in ("violence", "abuse", "help", "Her h1", "safe"):
            assert word.casefold() not in QUIET.casefold()
        assert her.choices("referral:kind") == ["referral:kind:home"]
        await her.tap("referral:kind:home")
        assert any(t.startswith(translate("en", "referral.services_home")[:20]) for t in her.texts)

        await world.run_jobs(after_seconds=2 * 86400)
        assert checkins_to(her, QUIET) == 2


async def test_quick_exit_holds_a_check_in_until_she_writes_again(database_url):
    async with running_service(database_url, clock=clock_at(MORNING)) as service:
        world = World.around(service)
        her, _ = await connected(world)
        await her.command("end")
        await world.run_jobs(after_seconds=20 * 3600)
        await her.command("exit")

        await world.run_jobs(after_seconds=4 * 3600)  # due: held, moved a day on
        assert checkins_to(her) == 0
        assert len(await waiting_due(service)) == 1
        await world.run_jobs(after_seconds=12 * 3600)
        await her.text("hello")  # she is back
        await world.run_jobs(after_seconds=12 * 3600)
        assert checkins_to(her) == 1


async def ways_to_say_no(world, her, way: str) -> None:
    if way == "no more":
        await her.tap("care:stop")
    elif way == "never first":
        await her.command("hours")
        await her.tap("care:never")
    elif way == "end":
        await her.command("end")  # nothing open any more: she ends everything
        assert translate("en", "care.cancelled_on_end") in her.texts
    elif way == "forget":
        await her.command("forget")
        await her.tap("forget:yes")
    elif way == "block":
        event = InboundEvent("telegram", her.address, EventKind.BLOCKED, "u-block")
        await world.service.router.handle(event)


@pytest.mark.parametrize("way", ["no more", "never first", "end", "forget", "block"])
async def test_check_ins_are_cancelled_when_she_says_so(database_url, way):
    async with running_service(database_url, clock=clock_at(MORNING)) as service:
        world = World.around(service)
        her = await world.seeker("h1")
        await her.tap("referral:danger:no")
        await her.tap("referral:kind:other")
        await world.run_jobs(after_seconds=2 * 3600 + 10)
        assert checkins_to(her, QUIET) == 1
        await her.tap("referral:back")

        await ways_to_say_no(world, her, way)
        await world.run_jobs(after_seconds=3 * 86400)

        assert checkins_to(her, QUIET) == 1
        assert not await waiting_due(service)


async def test_a_check_in_runs_once_with_several_workers(database_url):
    async with running_service(database_url, clock=clock_at(MORNING)) as service:
        world = World.around(service)
        her, _ = await connected(world)
        await her.command("end")
        service.clock.advance(25 * 3600)
        runners = [
            JobRunner(service.session_factory, dict(service.jobs.handlers), service.clock)
            for _ in range(3)
        ]
        await asyncio.gather(*(runner.tick() for runner in runners for _ in range(2)))
        await world.deliver()
        assert checkins_to(her) == 1
        async with service.session_factory() as session:
            rows = (await session.execute(
                select(OutboxMessage).where(OutboxMessage.text_id == "care.checkin")
            )).scalars().all()  # fmt: skip
        # A template may carry it on WhatsApp when her window is closed.
        assert [row.kind for row in rows] == ["checkin"]


async def test_on_whatsapp_her_zone_comes_from_her_number_and_a_check_in_uses_the_template(
    database_url,
):
    async with (
        FakeTwilioAPI() as tw,
        running_edge(database_url, twilio=tw, twilio_template_sid="HXcheckin",
                     clock=clock_at(MORNING)) as edge,
    ):  # fmt: skip
        service = edge.service
        await she_writes(tw, edge, "/start")
        await edge.drain()
        async with service.session_factory() as session, session.begin():
            me = await service.router.find_participant(session, "whatsapp", HER.split(":")[1])
            assert me.timezone == "Europe/Warsaw"  # from +48
            ctx = FlowContext(
                session,
                me,
                await session.get(FlowState, me.id),
                service.clock.now(),
                service.settings,
                service.router.routes.flows,
            )
            await after_referral(ctx, "home")
        tw.clear()
        service.clock.advance(2 * 86400)  # her 24-hour window has closed
        while await service.jobs.tick():
            pass
        await edge.drain()
        templates = [m for m in tw.messages if m.get("ContentSid") == "HXcheckin"]
        assert templates and "Body" not in templates[0]
        assert json.loads(templates[0]["ContentVariables"])["1"].startswith(QUIET[:20])
