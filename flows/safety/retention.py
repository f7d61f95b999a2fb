"""The daily purge: what ended conversations leave behind is deleted after a set number of days.

Requests, offers, matches and feedback of conversations that ended more than `retention_days`
ago are counted into anonymous per-day totals (by topic and outcome) and deleted, and so are
supporter-coordinator talks that ended that long ago (open or waiting ones stay); quick-exit
message ids after 48 hours; sent or abandoned outbox rows after a few days; finished jobs after
a day; and erasure tombstones left over. The job reschedules itself, and one is ensured at start.
"""

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flows.safety.ageing import Ageing, age_out
from models import (
    Campaign,
    CoordinatorTalk,
    Feedback,
    HelpRequest,
    Match,
    OutboxMessage,
    OutboxStatus,
    Participant,
    ParticipantStatus,
    ProcessedInbound,
    Report,
    RequestStatus,
    ScheduledJob,
    TalkStatus,
    campaign_of,
    delivery_bucket,
)
from models.stats import LENGTH_EDGES, WAIT_EDGES, bucket, increment

log = logging.getLogger(__name__)

KIND = "retention_purge"
EVERY = timedelta(days=1)
INBOUND_KEPT = timedelta(hours=48)  # quick exit needs her message ids this long, no longer
OUTBOX_KEPT = timedelta(days=3)
WORDS_AWAIT_STATUS = timedelta(days=1)  # a sent row's words, kept for a late delivery status
JOBS_KEPT = timedelta(days=1)
TOMBSTONE_KEPT = timedelta(days=1)
FINISHED = (RequestStatus.ENDED, RequestStatus.EXPIRED, RequestStatus.CANCELLED)
OUTBOX_DONE = (
    OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.READ, OutboxStatus.FAILED,
    OutboxStatus.DROPPED, OutboxStatus.HELD,  # words held after a quick exit wait 3 days at most
)  # fmt: skip


async def purge(
    session: AsyncSession, job: ScheduledJob, now: datetime, *, days: int = 90,
    ageing: Ageing = Ageing(),
) -> None:  # fmt: skip
    """The job handler: purge, age out the rest, then make sure the next run is planned."""
    counts = await purge_once(session, now, days=days)
    await age_out(session, now, ageing)
    log.info("retention purge: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    await _plan_next(session, now + EVERY, besides=job.id)


async def purge_once(session: AsyncSession, now: datetime, *, days: int) -> dict[str, int]:
    cutoff = now - timedelta(days=days)
    counts = {"requests": 0, "inbound": 0, "outbox": 0, "jobs": 0, "tombstones": 0, "talks": 0}
    old = (
        (
            await session.execute(
                select(HelpRequest).where(
                    HelpRequest.status.in_(FINISHED),
                    HelpRequest.ended_at.is_not(None) & (HelpRequest.ended_at < cutoff)
                    | HelpRequest.ended_at.is_(None) & (HelpRequest.created_at < cutoff),
                )
            )
        )
        .scalars()
        .all()
    )
    for request in old:
        await _count_request(session, request)
        match = (
            await session.execute(select(Match).where(Match.request_id == request.id))
        ).scalar_one_or_none()
        if match is not None:
            await session.execute(delete(Report).where(Report.match_id == match.id,
                                                       Report.status != "open"))  # fmt: skip
    if old:
        # Offers, the match and its feedback go with the request (foreign keys cascade).
        await session.execute(delete(HelpRequest).where(HelpRequest.id.in_([r.id for r in old])))
    counts["requests"] = len(old)
    counts["inbound"] = await _count_deleted(
        session, delete(ProcessedInbound).where(ProcessedInbound.received_at < now - INBOUND_KEPT)
    )
    outbox_done = (
        OutboxMessage.status.in_(OUTBOX_DONE),
        OutboxMessage.created_at < now - OUTBOX_KEPT,
    )
    # Sealed words a sent WhatsApp row kept for a late 63016 go a day after, whatever Twilio said.
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.sent_at < now - WORDS_AWAIT_STATUS,
            OutboxMessage.params.is_not(None) | OutboxMessage.media.is_not(None),
        )
        .values(params=None, media=None)
    )
    await _keep_campaign_counts(session, outbox_done)
    counts["outbox"] = await _count_deleted(session, delete(OutboxMessage).where(*outbox_done))
    counts["jobs"] = await _count_deleted(
        session,
        delete(ScheduledJob).where(
            ScheduledJob.done_at.is_not(None), ScheduledJob.done_at < now - JOBS_KEPT
        ),
    )
    counts["tombstones"] = await _count_deleted(
        session,
        delete(Participant).where(
            Participant.status == ParticipantStatus.ERASED,
            Participant.created_at < now - TOMBSTONE_KEPT,
        ),
    )
    await _purge_feedback(session, cutoff)
    counts["talks"] = await _count_deleted(session, delete(CoordinatorTalk).where(
        CoordinatorTalk.status == TalkStatus.ENDED,
        func.coalesce(CoordinatorTalk.ended_at, CoordinatorTalk.last_activity_at) < cutoff,
    ))  # fmt: skip
    if counts["talks"]:
        await increment(session, now.date(), "purged.talks", counts["talks"])
    return counts


async def _count_request(session: AsyncSession, request: HelpRequest) -> None:
    """What statistics keep of a request and its conversation: buckets, never the times."""
    day = request.created_at.date()
    await increment(session, day, f"requests.{request.topic}.{request.status}")
    await increment(session, day, f"requests.language.{request.language}")
    seeker = await session.get(Participant, request.seeker_id)
    if seeker is not None:
        await increment(session, day, f"requests.channel.{seeker.channel}")
    if request.urgent:
        await increment(session, day, "requests.urgent")
    if request.matched_at is not None:
        minutes = (request.matched_at - request.created_at).total_seconds() / 60
        await increment(session, day, f"match_wait.{bucket(minutes, WAIT_EDGES)}")
    match = (
        await session.execute(select(Match).where(Match.request_id == request.id))
    ).scalar_one_or_none()
    if match is None:
        return
    await increment(session, day, f"matches.ended_by.{match.ended_by or 'system'}")
    if match.ended_at is not None:
        minutes = (match.ended_at - match.started_at).total_seconds() / 60
        await increment(session, day, f"match_length.{bucket(minutes, LENGTH_EDGES)}")


async def _purge_feedback(session: AsyncSession, cutoff: datetime) -> None:
    """Feedback rows whose conversation is gone and that are old enough become counts only."""
    rows = (
        (
            await session.execute(
                select(Feedback).where(Feedback.match_id.is_(None), Feedback.created_at < cutoff)
            )
        )
        .scalars()
        .all()
    )
    for row in rows:
        kind = "weekly" if row.side == "weekly" else "checkin"  # a supporter's weekly answer
        name = f"feedback.score.{row.score}" if row.score else f"feedback.{kind}.{row.checkin}"
        await increment(session, row.created_at.date(), name)
        await session.delete(row)


async def _keep_campaign_counts(session: AsyncSession, doomed: tuple[Any, ...]) -> None:
    """A campaign's rows about to go leave their delivery counts on the campaign."""
    rows = await session.execute(
        select(OutboxMessage.dedupe_key, OutboxMessage.status, OutboxMessage.error).where(
            *doomed, OutboxMessage.dedupe_key.startswith("campaign:")
        )
    )
    per_campaign: dict[int, Counter[str]] = {}
    for key, status, error in rows.all():
        number = campaign_of(key)
        if number is not None:
            per_campaign.setdefault(number, Counter())[delivery_bucket(status, error)] += 1
    for number, counted in per_campaign.items():
        campaign = await session.get(Campaign, number)
        if campaign is not None:
            counted.update(campaign.purged_counts or {})
            campaign.purged_counts = dict(counted)


async def _count_deleted(session: AsyncSession, statement: Any) -> int:
    result = await session.execute(statement)
    return int(result.rowcount or 0)


async def _plan_next(
    session: AsyncSession, due_at: datetime, *, besides: int | None = None
) -> None:
    query = select(ScheduledJob.id).where(ScheduledJob.kind == KIND, ScheduledJob.done_at.is_(None))
    if besides is not None:
        query = query.where(ScheduledJob.id != besides)
    if (await session.execute(query.limit(1))).first() is None:
        session.add(ScheduledJob(kind=KIND, due_at=due_at, payload={}))


async def ensure_scheduled(
    session_factory: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    """At start: one purge is planned (idempotent; a second process adds none)."""
    async with session_factory() as session, session.begin():
        await _plan_next(session, now + timedelta(minutes=5))
