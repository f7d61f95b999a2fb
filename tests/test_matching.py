"""Matching through the real router: who is offered a request, the first accept, time-outs."""

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from flows.events import EventKind, InboundEvent
from models import (
    HelpRequest,
    Match,
    Offer,
    OfferStatus,
    ParticipantBlock,
    Report,
    RequestStatus,
    SupporterProfile,
)
from tests.support import World, running_service


async def offered_to(world: World) -> list[str]:
    """Addresses of everyone holding a pending offer, in the order offers were made."""
    async with world.service.session_factory() as session:
        rows = (await session.execute(
            select(Offer.supporter_id).where(Offer.status == OfferStatus.PENDING)
            .order_by(Offer.id)
        )).scalars().all()  # fmt: skip
        aliases = []
        for supporter_id in rows:
            from models import Participant

            aliases.append((await session.get(Participant, supporter_id)).alias)
    return aliases


async def test_request_is_offered_to_the_top_k_eligible_with_topic_and_language_only(database_url):
    async with running_service(database_url, offer_top_k=2) as service:
        world = World.around(service)
        fit = await world.supporter("s1", alias="Fit", topics=["housing"])
        await world.supporter("s2", alias="Other")
        await world.supporter("s3", alias="Third")
        her = await world.seeker("h1")
        await world.ask_for_help(her, topic="housing", note="my landlord took my passport")

        assert await offered_to(world) == ["Fit", "Other"]
        offer = fit.received[-1].message
        assert "Topic: Housing" in offer.text
        assert "English" in offer.text
        assert "passport" not in offer.text and "landlord" not in offer.text
        assert [b.choice.split(":")[1] for b in offer.buttons] == ["accept", "decline"]
        assert "Usually someone answers" in her.texts[-1]


async def test_ineligible_supporters_are_never_offered(database_url):
    async with running_service(database_url, offer_top_k=10) as service:
        world = World.around(service)
        await world.supporter("ok", alias="Eligible")
        await world.supporter("away", alias="Away", on_duty=False)
        await world.supporter("new", alias="Unapproved", approved=False)
        await world.supporter("susp", alias="Suspended", suspended=True)
        await world.supporter("pl", alias="PolishOnly", languages=["pl"])
        await world.supporter("trig", alias="OptedOut", excluded_topics=["violence"])
        await world.supporter("full", alias="Full", capacity=0)
        await world.supporter("hours", alias="OffHours", weekly_hours=["mon 03:00-03:01"])
        await world.supporter("coord", alias="Coordinator", role="coordinator")
        await world.supporter("blk", alias="BlockedByHer")
        await world.supporter("blk2", alias="BlockedHer")
        await world.supporter("rep", alias="ReportedByHer")
        her = await world.seeker("h1")
        me = await her.participant()
        async with service.session_factory() as session, session.begin():
            ids = {p.alias: p.id for p in [await w.participant() for w in (
                world_person(world, "blk"), world_person(world, "blk2"),
                world_person(world, "rep"))]}  # fmt: skip
            session.add(ParticipantBlock(blocker_id=me.id, blocked_id=ids["BlockedByHer"]))
            session.add(ParticipantBlock(blocker_id=ids["BlockedHer"], blocked_id=me.id))
            session.add(Report(reporter_id=me.id, reported_id=ids["ReportedByHer"], reason="abuse"))
        await world.ask_for_help(her, topic="violence")

        offered = await offered_to(world)
        assert offered == ["Eligible"] or (
            offered == ["Eligible", "OffHours"] and _monday_three(service)
        )


def world_person(world: World, address: str):
    from tests.support import Person

    return Person(world, address)


def _monday_three(service) -> bool:
    from zoneinfo import ZoneInfo

    local = service.clock.now().astimezone(ZoneInfo("Europe/Warsaw"))
    return local.weekday() == 0 and local.hour == 3 and local.minute == 0


async def test_ranking_prefers_topic_then_fewest_open_then_longest_since_last_match(database_url):
    async with running_service(database_url, offer_top_k=1) as service:
        world = World.around(service)
        now = service.clock.now()
        await world.supporter("recent", alias="Recent", last_matched_at=now - timedelta(hours=1))
        await world.supporter("long", alias="LongAgo", last_matched_at=now - timedelta(days=3))
        await world.supporter("topic", alias="TopicFit", topics=["work"],
                              last_matched_at=now)  # fmt: skip
        first = await world.seeker("h1")
        await world.ask_for_help(first, topic="work")
        assert await offered_to(world) == ["TopicFit"]

        second = await world.seeker("h2")
        await world.ask_for_help(second, topic="health")
        assert (await offered_to(world))[-1] == "LongAgo"


async def test_first_accept_wins_and_the_others_are_told_it_was_taken(database_url):
    async with running_service(database_url, offer_top_k=3) as service:
        world = World.around(service)
        a = await world.supporter("a", alias="Ana")
        b = await world.supporter("b", alias="Bea")
        her = await world.seeker("h1")
        await world.ask_for_help(her, note="I feel alone")

        await a.tap(a.choices("offer:accept")[0])
        await b.tap(b.choices("offer:accept")[0])

        assert "You are now talking with Seeker h1" in a.texts[-1]
        assert "I feel alone" in a.texts[-1]
        assert any("Another supporter has already taken" in t for t in b.texts)
        assert "You are now talking with Ana" in her.texts[-1]
        assert "I feel alone" not in her.texts[-1]
        async with service.session_factory() as session:
            assert (await session.execute(select(func.count()).select_from(Match))).scalar() == 1
            request = (await session.execute(select(HelpRequest))).scalar_one()
            assert request.status == RequestStatus.MATCHED
            profile = await session.get(SupporterProfile, (await a.participant()).id)
            assert profile.last_matched_at is not None


async def test_decline_needs_no_reason_and_the_next_supporter_is_offered(database_url):
    async with running_service(database_url, offer_top_k=1) as service:
        world = World.around(service)
        a = await world.supporter("a", alias="Ana")
        b = await world.supporter("b", alias="Bea")
        her = await world.seeker("h1")
        await world.ask_for_help(her)
        assert await offered_to(world) == ["Ana"]

        await a.tap(a.choices("offer:decline")[0])

        assert "That's fine" in a.texts[-1]
        assert await offered_to(world) == ["Bea"]
        assert b.choices("offer:accept")


async def test_unanswered_offer_times_out_and_goes_to_the_next(database_url):
    async with running_service(database_url, offer_top_k=1, offer_timeout_minutes=10) as service:
        world = World.around(service)
        a = await world.supporter("a", alias="Ana")
        await world.supporter("b", alias="Bea")
        her = await world.seeker("h1")
        await world.ask_for_help(her)

        await world.run_jobs(after_seconds=9 * 60)
        assert await offered_to(world) == ["Ana"]
        await world.run_jobs(after_seconds=61)

        assert await offered_to(world) == ["Bea"]
        assert "gone to another supporter" in a.texts[-1]
        old_offer = a.choices("offer:accept")[0]
        await a.tap(old_offer)
        assert "expired" in a.texts[-1]


async def test_coordinator_is_alerted_without_personal_data_when_nobody_takes_it(database_url):
    async with running_service(database_url, coordinator_alert_after_minutes=20) as service:
        world = World.around(service)
        coordinator = await world.supporter("c", role="coordinator", alias="Coord")
        her = await world.seeker("h1", alias="Iris 42")
        request_id = await world.ask_for_help(her, topic="housing", note="call me at 600 123 456")
        assert "no supporter is on duty" in her.texts[-1]

        await world.run_jobs(after_seconds=20 * 60)

        alert = coordinator.texts[-1]
        assert f"#{request_id}" in alert and "20 minutes" in alert
        assert "Iris" not in alert and "600" not in alert and "h1" not in alert
        assert "haven't been forgotten" in her.texts[-1]
        await world.run_jobs(after_seconds=20 * 60)
        assert len([t for t in coordinator.texts if f"#{request_id}" in t]) == 1


async def test_at_night_she_is_told_and_a_supporter_coming_on_duty_sees_urgent_first(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        old = await world.seeker("old")
        await world.ask_for_help(old, topic="work")
        service.clock.advance(60)
        urgent = await world.seeker("urgent")
        await world.ask_for_help(urgent, topic="violence", urgent=True)
        service.clock.advance(60)
        await world.ask_for_help(await world.seeker("later"), topic="health")
        assert "no supporter is on duty" in old.texts[-1]

        late = await world.supporter("late", alias="Late", on_duty=False, capacity=2)
        from flows.context import FlowContext
        from flows.conversation.offers import offer_waiting_requests
        from models import FlowState

        async with service.session_factory() as session, session.begin():
            me = await late.participant()
            me = await session.merge(me)
            profile = await session.get(SupporterProfile, me.id)
            profile.on_duty = True
            ctx = FlowContext(session, me, FlowState(participant_id=me.id, flow="intake",
                              step="menu", data={}), service.clock.now(), service.settings,
                              service.router.routes.flows)  # fmt: skip
            assert await offer_waiting_requests(ctx, me) == 2
        await world.deliver()

        offers = [t for t in late.texts if "Can you take" in t]
        assert offers[0].startswith("Urgent") and "Fear or violence at home" in offers[0]
        assert "Topic: Work" in offers[1]


async def test_request_expires_kindly_and_her_note_is_deleted(database_url):
    async with running_service(database_url, request_expiry_hours=48) as service:
        world = World.around(service)
        her = await world.seeker("h1")
        await world.ask_for_help(her, note="something private")
        await her.text("are you there?")

        await world.run_jobs(after_seconds=48 * 3600 + 1)

        assert "request has closed" in her.texts[-1]
        async with service.session_factory() as session:
            request = (await session.execute(select(HelpRequest))).scalar_one()
            from models import FlowState

            state = await session.get(FlowState, (await her.participant()).id)
        assert request.status == RequestStatus.EXPIRED and request.note is None
        assert "are you there" not in str(state.data)


async def test_a_supporter_at_capacity_cannot_accept_more(database_url):
    async with running_service(database_url, offer_top_k=5) as service:
        world = World.around(service)
        a = await world.supporter("a", alias="Ana", capacity=1)
        first, second = await world.seeker("h1"), await world.seeker("h2")
        await world.ask_for_help(first)
        offer_one = a.choices("offer:accept")[0]
        await a.tap(offer_one)
        await world.ask_for_help(second)  # not offered to her: she is full
        assert "Can you take" not in a.texts[-1]


async def test_twenty_concurrent_accepts_make_exactly_one_match(postgres_url):
    async with running_service(postgres_url, offer_top_k=20) as service:
        world = World.around(service)
        people = [await world.supporter(f"s{i}", alias=f"S{i}") for i in range(20)]
        her = await world.seeker("h1")
        await world.ask_for_help(her)
        choices = [p.choices("offer:accept")[0] for p in people]
        assert len(set(choices)) == 20

        events = [
            InboundEvent(
                "telegram", p.address, EventKind.CHOICE, message_id=f"acc{i}", choice=choice
            )  # fmt: skip
            for i, (p, choice) in enumerate(zip(people, choices, strict=True))
        ]
        outcomes = await asyncio.gather(*(service.router.handle(e) for e in events))
        await world.deliver()

        assert all(o == "handled" for o in outcomes)
        async with service.session_factory() as session:
            assert (await session.execute(select(func.count()).select_from(Match))).scalar() == 1
            statuses = (await session.execute(select(Offer.status))).scalars().all()
        assert sorted(statuses).count(OfferStatus.ACCEPTED) == 1
        winners = [p for p in people if any("You are now talking" in t for t in p.texts)]
        told = [p for p in people if any("already taken" in t for t in p.texts)]
        assert len(winners) == 1 and len(told) == 19


async def test_capacity_is_never_exceeded_under_concurrent_offers_and_accepts(postgres_url):
    async with running_service(postgres_url, offer_top_k=3) as service:
        world = World.around(service)
        supporters = [await world.supporter(f"s{i}", alias=f"S{i}", capacity=2) for i in range(3)]
        seekers = [await world.seeker(f"h{i}") for i in range(6)]
        # Six requests opened at once: offers are made concurrently.
        await asyncio.gather(*(world.ask_for_help(s) for s in seekers))
        # Every supporter then presses every offer she got, all at once; the same for more.
        for _ in range(3):
            events = []
            for s in supporters:
                for choice in {d.message.buttons[0].choice for d in s.received
                               if d.message.buttons and d.message.buttons[0].choice.startswith(
                                   "offer:accept")}:  # fmt: skip
                    events.append(InboundEvent("telegram", s.address, EventKind.CHOICE,
                                               message_id=f"{s.address}-{choice}-{_}",
                                               choice=choice))  # fmt: skip
            await asyncio.gather(*(service.router.handle(e) for e in events))
            await world.deliver()
            await world.run_jobs(after_seconds=11 * 60)

        async with service.session_factory() as session:
            per_supporter = dict((await session.execute(
                select(Match.supporter_id, func.count()).group_by(Match.supporter_id)
            )).all())  # fmt: skip
        assert per_supporter and all(n <= 2 for n in per_supporter.values())
        assert sum(per_supporter.values()) == 6


async def test_on_a_text_only_channel_a_typed_number_accepts_the_offer(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        console = await world.supporter("maya", alias="Maya", channel="console")
        her = await world.seeker("h1")
        await world.ask_for_help(her)

        await console.text("1")  # "1. Accept" as the console shows it

        async with service.session_factory() as session:
            match = (await session.execute(select(Match))).scalar_one()
        assert match.supporter_id == (await console.participant()).id
        assert "You are now talking with Maya" in her.texts[-1]
        await her.text("2")  # in a conversation a number is her words, relayed as they are
        async with service.session_factory() as session:
            assert (await session.execute(select(Match.status))).scalar_one() == "active"
