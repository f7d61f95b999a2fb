"""The daily retention purge: old conversation metadata goes, anonymous counts stay."""

from datetime import timedelta

from sqlalchemy import func, select

from flows.safety.retention import KIND, ensure_scheduled
from models import (
    CoordinatorTalk,
    DailyCount,
    HelpRequest,
    Match,
    Offer,
    OutboxMessage,
    OutboxStatus,
    Participant,
    ProcessedInbound,
    RequestStatus,
    ScheduledJob,
    TalkStatus,
)
from tests.support import World, running_service


async def seed_conversation(service, seeker, supporter, *, ended_days_ago: float) -> int:
    now = service.clock.now()
    ended = now - timedelta(days=ended_days_ago)
    async with service.session_factory() as session, session.begin():
        request = HelpRequest(seeker_id=seeker.id, topic="housing", language="en", urgent=True,
                              status=RequestStatus.ENDED, created_at=ended - timedelta(hours=1),
                              ended_at=ended)  # fmt: skip
        session.add(request)
        await session.flush()
        session.add(Offer(request_id=request.id, supporter_id=supporter.id, status="accepted",
                          created_at=ended, expires_at=ended))  # fmt: skip
        session.add(Match(request_id=request.id, seeker_id=seeker.id, supporter_id=supporter.id,
                          status="ended", started_at=ended, last_activity_at=ended,
                          ended_at=ended, ended_by="seeker"))  # fmt: skip
        return request.id


async def count(service, model) -> int:
    async with service.session_factory() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_the_purge_deletes_old_metadata_keeps_counts_and_plans_the_next_run(database_url):
    async with running_service(database_url, retention_days=90) as service:
        world = World.around(service)
        supporter = await (await world.supporter("s1", alias="Sup One")).participant()
        seeker = await (await world.seeker("h1")).participant()
        old = await seed_conversation(service, seeker, supporter, ended_days_ago=100)
        recent = await seed_conversation(service, seeker, supporter, ended_days_ago=10)
        now = service.clock.now()
        day = timedelta(days=1)
        async with service.session_factory() as session, session.begin():
            for message_id, age in (("old", 3 * day), ("new", timedelta(0))):
                session.add(ProcessedInbound(
                    channel="telegram", message_id=message_id, participant_id=seeker.id,
                    chat_message_id="5", received_at=now - age,
                ))  # fmt: skip
            # On a channel no sender serves here, so the pending row stays pending.
            for status, age in ((OutboxStatus.SENT, 5), (OutboxStatus.PENDING, 5),
                                (OutboxStatus.SENT, 1)):  # fmt: skip
                session.add(OutboxMessage(
                    participant_id=seeker.id, channel="whatsapp", text_id="x", status=status,
                    created_at=now - age * day, available_at=now,
                ))  # fmt: skip
            session.add(ScheduledJob(kind="idle_check", due_at=now - 3 * day,
                                     done_at=now - 2 * day))  # fmt: skip
            session.add(Participant(
                status="erased", channel="telegram", address_hash="erased:x", address_cipher=b"x",
                alias="", created_at=now - 2 * day,
            ))  # fmt: skip

        await ensure_scheduled(service.session_factory, service.clock.now())
        await ensure_scheduled(service.session_factory, service.clock.now())  # idempotent
        assert await service.jobs.tick() == 0  # planned a few minutes after start
        service.clock.advance(600)
        assert await service.jobs.tick() == 1

        async with service.session_factory() as session:
            requests = (await session.execute(select(HelpRequest.id))).scalars().all()
            inbound = (await session.execute(select(ProcessedInbound.message_id))).scalars().all()
            outbox = (await session.execute(
                select(OutboxMessage.status, OutboxMessage.created_at)
            )).all()  # fmt: skip
            counts = dict((await session.execute(select(DailyCount.name, DailyCount.value))).all())
            planned = (await session.execute(
                select(ScheduledJob.due_at).where(ScheduledJob.kind == KIND,
                                                  ScheduledJob.done_at.is_(None))
            )).scalars().all()  # fmt: skip
            erased = (await session.execute(
                select(Participant).where(Participant.status == "erased")
            )).first()  # fmt: skip
        assert requests == [recent] and old not in requests
        assert await count(service, Match) == 1 and await count(service, Offer) == 1
        assert inbound == ["new"]
        assert sorted(s for s, _ in outbox) == [OutboxStatus.PENDING, OutboxStatus.SENT]
        assert counts["requests.housing.ended"] == 1 and counts["requests.urgent"] == 1
        assert counts["matches.ended_by.seeker"] == 1
        assert len(planned) == 1 and planned[0] > service.clock.now() + timedelta(hours=23)
        assert erased is None
        assert await count(service, ScheduledJob) == 2  # the run just done and the next one


async def test_starting_the_service_plans_exactly_one_purge(database_url):
    async with running_service(database_url, start=True) as service:
        await ensure_scheduled(service.session_factory, service.clock.now())
        async with service.session_factory() as session:
            jobs = (await session.execute(
                select(ScheduledJob).where(ScheduledJob.kind == KIND)
            )).scalars().all()  # fmt: skip
        assert len(jobs) == 1 and jobs[0].done_at is None


async def test_ended_coordinator_talks_go_after_the_retention_days_and_open_ones_stay(
    database_url,
):
    async with running_service(database_url, retention_days=90) as service:
        world = World.around(service)
        helper = await (await world.supporter("s1", alias="Sup One")).participant()
        rose = await (await world.supporter("c1", role="coordinator")).participant()
        now, day = service.clock.now(), timedelta(days=1)
        async with service.session_factory() as session, session.begin():
            for status, ended_days_ago, reason in (
                (TalkStatus.ENDED, 100, "old"), (TalkStatus.ENDED, 10, "recent"),
                (TalkStatus.OPEN, None, "open"), (TalkStatus.WAITING, None, "waiting"),
            ):  # fmt: skip
                ended = now - ended_days_ago * day if ended_days_ago else None
                session.add(CoordinatorTalk(
                    supporter_id=helper.id, coordinator_id=rose.id, status=status, reason=reason,
                    created_at=now - 200 * day, last_activity_at=ended or now - 200 * day,
                    ended_at=ended, ended_by="supporter" if ended else None,
                ))  # fmt: skip

        async def purge_now() -> tuple[list[str], int | None]:
            async with service.session_factory() as session, session.begin():
                session.add(ScheduledJob(kind=KIND, due_at=service.clock.now(), payload={}))
            await world.run_jobs()
            async with service.session_factory() as session:
                left = (await session.execute(select(CoordinatorTalk.reason))).scalars().all()
                purged = (await session.execute(
                    select(func.sum(DailyCount.value)).where(DailyCount.name == "purged.talks")
                )).scalar_one()  # fmt: skip
            return sorted(left), purged

        assert await purge_now() == (["open", "recent", "waiting"], 1)
        service.clock.advance(81 * 24 * 3600)  # now the recent one ended 91 days ago
        assert await purge_now() == (["open", "waiting"], 2)
