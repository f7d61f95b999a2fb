"""The raw counts for a period, read from live rows and from what the retention purge left.

Everything about a request and its conversation is counted on the day the request was made, so
live rows and the purge's per-day counters add up without counting anything twice.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Campaign,
    DailyCount,
    Feedback,
    HelpRequest,
    Match,
    MatchStatus,
    OutboxMessage,
    Participant,
    RequestStatus,
    delivery_bucket,
)
from models.stats import LENGTH_EDGES, WAIT_EDGES, bucket, bucket_middle

PURGED_OUTCOME = {
    RequestStatus.ENDED: "matched",
    RequestStatus.EXPIRED: "expired",
    RequestStatus.CANCELLED: "cancelled",
}


@dataclass
class Raw:
    """Counts only: no row, alias or id survives into this object."""

    start: date
    end: date
    requests_by_day: Counter[date] = field(default_factory=Counter)
    topics: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    channels: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    urgent: int = 0
    waits: list[float] = field(default_factory=list)  # minutes, live and purged (bucket middle)
    wait_buckets: Counter[str] = field(default_factory=Counter)
    lengths: list[float] = field(default_factory=list)
    length_buckets: Counter[str] = field(default_factory=Counter)
    ended_by: Counter[str] = field(default_factory=Counter)  # "open" while still going
    load: Counter[int] = field(default_factory=Counter)  # supporter -> conversations, anonymised
    scores: Counter[str] = field(default_factory=Counter)
    checkins: Counter[str] = field(default_factory=Counter)
    referrals: Counter[str] = field(default_factory=Counter)
    danger: Counter[str] = field(default_factory=Counter)
    quick_exits: int = 0
    erasures: int = 0
    campaigns: int = 0
    campaign_reach: int = 0
    # (campaign name, its rows by where they stand: queued, sent, delivered, failed, ...)
    campaign_delivery: list[tuple[str, Counter[str]]] = field(default_factory=list)
    purged_requests: int = 0  # requests known only from the purge's counters


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Whole UTC days, `end` included."""
    return (
        datetime.combine(start, time.min, UTC),
        datetime.combine(end + timedelta(days=1), time.min, UTC),
    )


async def gather(session: AsyncSession, start: date, end: date) -> Raw:
    raw = Raw(start, end)
    since, until = period_bounds(start, end)
    await _live_requests(session, raw, since, until)
    await _live_feedback(session, raw, since, until)
    await _purged_counts(session, raw)
    await _campaigns(session, raw, since, until)
    return raw


async def _live_requests(session: AsyncSession, raw: Raw, since: datetime, until: datetime) -> None:
    rows = await session.execute(
        select(HelpRequest, Participant.channel, Match)
        .join(Participant, Participant.id == HelpRequest.seeker_id)
        .outerjoin(Match, Match.request_id == HelpRequest.id)
        .where(HelpRequest.created_at >= since, HelpRequest.created_at < until)
    )
    per_supporter: Counter[int] = Counter()
    for request, channel, match in rows.all():
        raw.requests_by_day[request.created_at.date()] += 1
        raw.topics[request.topic] += 1
        raw.languages[request.language] += 1
        raw.channels[channel] += 1
        raw.urgent += int(request.urgent)
        if match is not None or request.matched_at is not None:
            raw.outcomes["matched"] += 1
        elif request.status == RequestStatus.WAITING:
            raw.outcomes["waiting"] += 1
        elif request.status == RequestStatus.EXPIRED:
            raw.outcomes["expired"] += 1
        else:
            raw.outcomes["cancelled"] += 1
        if request.matched_at is not None:
            minutes = (request.matched_at - request.created_at).total_seconds() / 60
            raw.waits.append(minutes)
            raw.wait_buckets[bucket(minutes, WAIT_EDGES)] += 1
        if match is None:
            continue
        per_supporter[match.supporter_id] += 1
        if match.status != MatchStatus.ENDED or match.ended_at is None:
            raw.ended_by["open"] += 1
            continue
        raw.ended_by[match.ended_by or "system"] += 1
        minutes = (match.ended_at - match.started_at).total_seconds() / 60
        raw.lengths.append(minutes)
        raw.length_buckets[bucket(minutes, LENGTH_EDGES)] += 1
    raw.load = Counter(per_supporter.values())


async def _live_feedback(session: AsyncSession, raw: Raw, since: datetime, until: datetime) -> None:
    rows = await session.execute(
        select(Feedback.score, Feedback.checkin).where(
            Feedback.created_at >= since, Feedback.created_at < until, Feedback.side != "weekly"
        )
    )
    for score, checkin in rows.all():
        if score:
            raw.scores[str(score)] += 1
        elif checkin:
            raw.checkins[checkin] += 1


async def _purged_counts(session: AsyncSession, raw: Raw) -> None:
    """Add the per-day counters: purged requests, feedback, and signals counted as they came."""
    rows = await session.execute(
        select(DailyCount.day, DailyCount.name, DailyCount.value).where(
            DailyCount.day >= raw.start, DailyCount.day <= raw.end
        )
    )
    languages: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    for day, name, value in rows.all():
        kind, _, rest = name.partition(".")
        head, _, tail = rest.partition(".")
        if kind == "requests" and head == "language":
            languages[tail] += value
        elif kind == "requests" and head == "channel":
            channels[tail] += value
        elif kind == "requests" and tail in PURGED_OUTCOME:
            raw.requests_by_day[day] += value
            raw.topics[head] += value
            raw.outcomes[PURGED_OUTCOME[RequestStatus(tail)]] += value
            raw.purged_requests += value
        elif kind == "requests" and head == "urgent":
            raw.urgent += value
        elif kind == "matches" and head == "ended_by":
            raw.ended_by[tail] += value
        elif kind == "match_wait":
            raw.wait_buckets[head] += value
            raw.waits.extend([bucket_middle(head)] * value)
        elif kind == "match_length":
            raw.length_buckets[head] += value
            raw.lengths.extend([bucket_middle(head)] * value)
        elif kind == "feedback" and head == "score":
            raw.scores[tail] += value
        elif kind == "feedback" and head == "checkin":
            raw.checkins[tail] += value
        elif kind == "referral":
            raw.referrals[head] += value
        elif kind == "danger":
            raw.danger[head] += value
        elif kind == "quick_exits":
            raw.quick_exits += value
        elif kind == "erasures":
            raw.erasures += value
    # Requests purged before language and channel were counted are of an unknown one.
    for known, target in ((languages, raw.languages), (channels, raw.channels)):
        target.update(known)
        unknown = raw.purged_requests - sum(known.values())
        if unknown > 0:
            target["unknown"] += unknown


async def _campaigns(session: AsyncSession, raw: Raw, since: datetime, until: datetime) -> None:
    """Campaigns queued in the period, each with its delivery: live rows plus what the purge
    counted of the rows it deleted."""
    rows = await session.execute(
        select(Campaign.id, Campaign.name, Campaign.queued, Campaign.purged_counts)
        .where(
            Campaign.queued_at.is_not(None),
            Campaign.queued_at >= since,
            Campaign.queued_at < until,
        )
        .order_by(Campaign.queued_at, Campaign.id)
    )
    for number, name, queued, purged in rows.all():
        raw.campaigns += 1
        raw.campaign_reach += queued or 0
        delivery: Counter[str] = Counter(purged or {})
        live = await session.execute(
            select(OutboxMessage.status, OutboxMessage.error, func.count(OutboxMessage.id))
            .where(OutboxMessage.dedupe_key.startswith(f"campaign:{number}:", autoescape=True))
            .group_by(OutboxMessage.status, OutboxMessage.error)
        )
        for status, error, count in live.all():
            delivery[delivery_bucket(status, error)] += count
        raw.campaign_delivery.append((name, delivery))
