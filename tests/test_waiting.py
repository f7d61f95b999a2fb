"""While she waits: her place and an honest estimate when she asks and at an interval, reminders
to coordinators; and "the same supporter again" when both said yes."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.clock import VirtualClock
from i18n import translate
from models import HelpRequest, Match, RequestStatus
from tests.support import World, running_service
from tests.test_relay import connected

MORNING = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 11:00 in Warsaw


def where(position: int, estimate: dict) -> str:
    return translate("en", "care.where", {"position": position, "estimate": estimate})


NO_ESTIMATE = {"msgid": "care.no_estimate"}


def offers_to(person) -> int:
    return sum(
        1
        for delivery in person.received
        if any(b.choice.startswith("offer:accept") for b in delivery.message.buttons)
    )


async def test_she_asks_where_she_stands_and_hears_her_place_honestly(database_url):
    async with running_service(database_url, clock=VirtualClock(MORNING)) as service:
        world = World.around(service)
        first, second = await world.seeker("h1"), await world.seeker("h2")
        await world.ask_for_help(first)  # nobody on duty: both wait
        await world.ask_for_help(second)
        assert "care:where" in second.choices("care:")

        await second.tap("care:where")
        assert second.texts[-1] == where(2, NO_ESTIMATE)
        await first.command("where")
        assert first.texts[-1] == where(1, NO_ESTIMATE)

        urgent = await world.seeker("h3")
        await world.ask_for_help(urgent, urgent=True)
        await second.tap("care:where")
        assert second.texts[-1] == where(3, NO_ESTIMATE)  # an urgent request goes first


async def test_the_estimate_is_the_median_of_recent_matches_in_her_language(database_url):
    async with running_service(database_url, clock=VirtualClock(MORNING)) as service:
        world = World.around(service)
        for n, minutes in enumerate((10, 20, 42, 300 * 60)):
            past = await world.seeker(f"p{n}")
            request_id = await world.ask_for_help(past)
            async with service.session_factory() as session, session.begin():
                created = MORNING - timedelta(days=1 if minutes < 1000 else 30)
                matched = created + timedelta(minutes=minutes)
                await session.execute(update(HelpRequest).where(HelpRequest.id == request_id)
                                      .values(status=RequestStatus.ENDED, created_at=created,
                                              matched_at=matched))  # fmt: skip
        her = await world.seeker("h1")
        await world.ask_for_help(her)
        await her.tap("care:where")
        # 10, 20 and 42 minutes in the last two weeks (the month-old one is left out): about 20.
        assert her.texts[-1] == where(1, {"msgid": "care.estimate", "params": {"minutes": 20}})
        assert "about 20 minutes" in her.texts[-1]


async def test_she_hears_where_she_stands_at_an_interval_and_only_in_her_hours(database_url):
    evening = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)  # 20:00 in Warsaw
    async with running_service(database_url, clock=VirtualClock(evening)) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", on_duty=False)
        her = await world.seeker("h1")
        await world.ask_for_help(her)
        updates = lambda: sum(1 for t in her.texts if t.startswith("Your place"))  # noqa: E731
        await world.run_jobs(after_seconds=30 * 60 + 5)
        assert updates() == 1  # 20:30 her time
        await world.run_jobs(after_seconds=30 * 60)
        assert updates() == 1  # 21:00: her hours are over, nothing at night
        for _ in range(25):
            await world.run_jobs(after_seconds=30 * 60)
        assert updates() == 3  # 09:00 and 09:30 the next morning
        reminders = [t for t in coordinator.texts if t.startswith("Reminder: request")]
        assert reminders and "has waited 120 minutes" in reminders[0]

        await her.tap(her.choices("relay:cancel")[-1])
        await world.run_jobs(after_seconds=2 * 3600)
        assert updates() == 3  # no longer waiting: no more updates


async def test_the_same_supporter_again_when_both_said_yes(database_url):
    async with running_service(database_url, clock=VirtualClock(MORNING), offer_top_k=1) as service:
        world = World.around(service)
        her, helper = await connected(world, supporter="s1")
        other = await world.supporter("s0", alias="Sup s0")  # matched less lately: ranked first
        await her.command("end")
        assert "Sup s1" in her.texts[-3] and her.choices("care:again")
        await her.tap(her.choices("care:again")[0])
        await helper.tap(helper.choices("care:again")[0])
        assert helper.texts[-1] == translate("en", "care.again_yes")

        before = (offers_to(helper), offers_to(other))
        await world.ask_for_help(her)
        assert (offers_to(helper), offers_to(other)) == (before[0] + 1, before[1])
        assert "Her h1" not in helper.texts[-1]  # the offer names no one


async def test_without_both_yes_the_usual_order_holds(database_url):
    async with running_service(database_url, clock=VirtualClock(MORNING), offer_top_k=1) as service:
        world = World.around(service)
        her, helper = await connected(world, supporter="s1")
        other = await world.supporter("s0", alias="Sup s0")
        await her.command("end")
        await her.tap(her.choices("care:again")[0])
        before = offers_to(other)
        await world.ask_for_help(her)
        assert offers_to(other) == before + 1


async def test_no_preference_when_only_one_side_said_yes(database_url):
    async with running_service(database_url, clock=VirtualClock(MORNING)) as service:
        world = World.around(service)
        her, helper = await connected(world, supporter="s1")
        await helper.command("end")
        await her.tap(her.choices("care:again")[0])
        await helper.tap(helper.choices("care:again")[1])
        assert helper.texts[-1] == translate("en", "care.again_no")
        async with service.session_factory() as session:
            match = (await session.execute(select(Match))).scalar_one()
        assert (match.seeker_again, match.supporter_again) == (True, False)
