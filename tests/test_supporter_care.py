"""Care for supporters: a check-in after every hard ending, a weekly one, a weekly cap, a pause."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import VirtualClock
from flows.supporters.wellbeing import ROUND_JOB, next_round, week_of
from flows.weekly_hours import next_within_hours
from handlers.base import RecipientUnreachable
from i18n import translate
from models import Feedback, Match, MatchStatus, ScheduledJob, SupporterProfile
from tests.support import World, running_service
from tests.test_relay import connected

HARD = translate("en", "feedback.checkin_hard")


async def end_by_seeker_block(world, her, helper, coordinator):
    await her.command("block")
    await her.tap("mod:block:yes")


async def end_by_supporter_block(world, her, helper, coordinator):
    await helper.command("block")
    await helper.tap("mod:block:yes")


async def end_by_ban(world, her, helper, coordinator):
    await coordinator.command("ban", "Her h1")


async def end_by_erasure(world, her, helper, coordinator):
    await her.command("forget")
    await her.tap("forget:yes")


async def end_by_her_handover(world, her, helper, coordinator):
    await her.command("handover")


async def end_by_supporter_handover(world, her, helper, coordinator):
    await helper.command("handover")


async def end_by_blocking_the_bot(world, her, helper, coordinator):
    world.channel.fail_next(RecipientUnreachable("blocked by the user"), address=her.address)
    await helper.text("How are you today?")
    await world.run_jobs()


@pytest.mark.parametrize("ending", [
    end_by_seeker_block, end_by_supporter_block, end_by_ban, end_by_erasure,
    end_by_her_handover, end_by_supporter_handover, end_by_blocking_the_bot,
])  # fmt: skip
async def test_every_hard_ending_asks_the_supporter_how_she_is(database_url, ending):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord")
        her, helper = await connected(world)
        await ending(world, her, helper, coordinator)

        async with service.session_factory() as session:
            matches = (await session.execute(select(Match))).scalars().all()
        assert all(m.status == MatchStatus.ENDED for m in matches)  # erased: none left at all
        assert HARD in helper.texts, helper.texts[-3:]
        choices = helper.choices("feedback:checkin")
        assert [c.rsplit(":", 1)[1] for c in choices] == ["ok", "heavy", "talk"]
        before = len(coordinator.texts)
        await helper.tap(choices[2])  # "I'd like to talk to a coordinator"
        assert len(coordinator.texts) > before
        async with service.session_factory() as session:
            answer = (await session.execute(select(Feedback))).scalars().all()
        assert [(f.side, f.checkin) for f in answer] == [("supporter", "talk")]


async def test_a_supporter_who_is_suspended_is_not_asked(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord")
        her, helper = await connected(world)
        await coordinator.command("suspend", "Sup s1")
        assert HARD not in helper.texts


async def test_the_weekly_cap_holds_in_matching(database_url):
    async with running_service(database_url, supporter_weekly_cap=2, offer_top_k=1) as service:
        world = World.around(service)
        helper = await world.supporter("s1", alias="Sup s1", capacity=5)
        for number in range(2):
            her = await world.seeker(f"h{number}", alias=f"Her {number}")
            await world.ask_for_help(her)
            await helper.tap(helper.choices("offer:accept")[-1])
            await her.command("end")
        third = await world.seeker("h9", alias="Her 9")
        offers_before = len([t for t in helper.texts if "Can you take" in t])
        await world.ask_for_help(third)
        assert len([t for t in helper.texts if "Can you take" in t]) == offers_before
        # A week after the first two began, she may be offered requests again.
        service.clock.advance(7 * 24 * 3600 + 60)
        await helper.command("available")
        assert "Can you take" in helper.texts[-1]


async def test_pause_me_takes_her_off_new_requests_for_the_time_she_chose(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        helper = await world.supporter("s1", alias="Sup s1")
        await helper.command("pause")
        assert helper.choices("wellbeing:pause") == [f"wellbeing:pause:{d}" for d in (1, 3, 7, 14)]
        await helper.tap("wellbeing:pause:3")
        assert "You are paused until" in helper.texts[-1]
        her = await world.seeker("h1")
        await world.ask_for_help(her)
        assert not any("Can you take" in t for t in helper.texts)
        await world.run_jobs(after_seconds=3 * 24 * 3600 + 60)
        assert translate("en", "wellbeing.pause_over") in helper.texts
        async with service.session_factory() as session:
            profile = await session.get(SupporterProfile, (await helper.participant()).id)
        assert profile.paused_until is None and profile.on_duty
        her2 = await world.seeker("h2")
        await world.ask_for_help(her2)
        assert "Can you take" in helper.texts[-1]


async def test_available_ends_a_pause_early(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        helper = await world.supporter("s1", alias="Sup s1")
        her = await world.seeker("h1")
        await helper.command("pause")
        await helper.tap("wellbeing:pause:14")
        await world.ask_for_help(her)
        assert not any("Can you take" in t for t in helper.texts)
        await helper.command("available")
        assert "Can you take" in helper.texts[-1]  # what waited is offered to her at once
        await world.run_jobs(after_seconds=14 * 24 * 3600 + 60)
        assert translate("en", "wellbeing.pause_over") not in helper.texts


async def test_a_seeker_cannot_pause(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her = await world.seeker("h1")
        await her.command("pause")
        assert "paused" not in her.texts[-1] and not her.choices("wellbeing:")


async def test_the_weekly_check_in_goes_to_those_who_supported_and_heavy_reaches_a_coordinator(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord")
        her, helper = await connected(world)
        resting = await world.supporter("s2", alias="Sup s2", on_duty=False)
        await her.command("end")
        async with service.session_factory() as session, session.begin():
            session.add(ScheduledJob(kind=ROUND_JOB, due_at=service.clock.now(), payload={}))
        await world.run_jobs()
        ask = translate("en", "wellbeing.weekly_ask")
        assert helper.texts[-1] == ask and ask not in resting.texts
        [ok, heavy, talk] = helper.choices("wellbeing:weekly")
        await helper.tap(heavy)
        assert "Sup s1" in coordinator.texts[-1] and "It was heavy" in coordinator.texts[-1]
        await helper.tap(ok)  # the same week's question answered twice counts once
        async with service.session_factory() as session:
            weekly = (await session.execute(select(Feedback).where(Feedback.side == "weekly"))
                      ).scalars().all()  # fmt: skip
            open_rounds = select(ScheduledJob).where(
                ScheduledJob.kind == ROUND_JOB, ScheduledJob.done_at.is_(None)
            )
            rounds = (await session.execute(open_rounds)).scalars().all()
        assert [w.checkin for w in weekly] == ["heavy"]
        assert [r.due_at for r in rounds] == [next_round(service.clock.now(), "Europe/Warsaw")]
        assert rounds[0].due_at - service.clock.now() <= timedelta(days=7)


FRIDAY_ROUND = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)  # Friday 17:00 in Warsaw


async def test_the_weekly_check_in_lands_in_her_own_hours_moved_never_dropped(database_url):
    clock = VirtualClock(FRIDAY_ROUND)
    async with running_service(database_url, clock=clock, reach_hours="09:00-21:00") as service:
        world = World.around(service)
        evenings = await world.supporter("s1", alias="Fri Eve", weekly_hours=["fri 16:00-20:00"])
        saturday = await world.supporter("s2", alias="Sat Morn", weekly_hours=["sat 10:00-14:00"])
        # No hours of her own: the deployment's 09:00-21:00, on her clock in Tokyo (01:00 now).
        tokyo = await world.supporter("s3", alias="Tokyo", timezone="Asia/Tokyo")
        async with service.session_factory() as session, session.begin():
            session.add(ScheduledJob(kind=ROUND_JOB, due_at=clock.now(), payload={}))
        await world.run_jobs()
        ask = translate("en", "wellbeing.weekly_ask")
        assert evenings.texts[-1] == ask
        assert ask not in saturday.texts and ask not in tokyo.texts

        await world.run_jobs(after_seconds=8 * 3600 - 60)  # Friday 23:59 UTC
        assert ask not in tokyo.texts
        await world.run_jobs(after_seconds=60)  # Saturday 09:00 in Tokyo
        assert tokyo.texts[-1] == ask and ask not in saturday.texts
        await world.run_jobs(after_seconds=9 * 3600 - 60)  # Saturday 09:59 in Warsaw
        assert ask not in saturday.texts
        await world.run_jobs(after_seconds=60)
        assert saturday.texts[-1] == ask
        # Asked on Saturday, it is still the week that ended: its answer counts for that week.
        [ok, _, _] = saturday.choices("wellbeing:weekly")
        assert ok == f"wellbeing:weekly:{week_of(FRIDAY_ROUND)}:ok"
        await saturday.tap(ok)
        assert [evenings.texts.count(ask), tokyo.texts.count(ask)] == [1, 1]


def test_the_next_moment_in_her_hours_follows_her_wall_clock():
    hours = ["mon 18:00-22:00", "sat 10:00-14:00"]
    friday = datetime(2026, 3, 27, 16, 0, tzinfo=UTC)
    # Saturday 10:00 in Warsaw is still winter time (UTC+1) on 28 March...
    assert next_within_hours(hours, "Europe/Warsaw", friday) == datetime(
        2026, 3, 28, 9, 0, tzinfo=UTC
    )
    # ...and Monday 18:00 is summer time (UTC+2) after the clocks went forward on the 29th.
    sunday = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    assert next_within_hours(hours, "Europe/Warsaw", sunday) == datetime(
        2026, 3, 30, 16, 0, tzinfo=UTC
    )
    inside = datetime(2026, 3, 28, 10, 0, tzinfo=UTC)
    assert next_within_hours(hours, "Europe/Warsaw", inside) == inside
    assert next_within_hours([], "Europe/Warsaw", friday) == friday
