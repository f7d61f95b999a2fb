"""Who may be offered a request: one standing check, then language, topic, hours, bars and room.

A supporter in good standing is an active, approved, unsuspended supporter; she is offered a
request only when it fits her languages and topics, she is on duty within her hours, the seeker
never barred her, and her open conversations plus pending offers leave room.
"""

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    or_,
    select,
    union,
)

from flows.context import FlowContext
from flows.conversation.lookups import OPEN_MATCH
from flows.weekly_hours import is_within_hours
from models import (
    HelpRequest,
    Match,
    Offer,
    OfferStatus,
    Participant,
    ParticipantBlock,
    ParticipantStatus,
    Report,
    Role,
    SupporterProfile,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WEEK = timedelta(days=7)
CHUNK = 256  # supporters read per page when their hours must be checked one by one
# The one definition of a supporter who may be offered requests at all.
GOOD_STANDING: tuple[ColumnElement[bool], ...] = (
    Participant.role == Role.SUPPORTER,
    Participant.status == ParticipantStatus.ACTIVE,
    SupporterProfile.approved.is_(True),
    SupporterProfile.suspended.is_(False),
)


@dataclass(frozen=True)
class Candidate:
    person: Participant
    profile: SupporterProfile
    open_matches: int

    def rank(self, topic: str) -> tuple[int, int, datetime]:
        # Topic fit first, then fairness: fewest open conversations, longest since a match.
        return (
            0 if topic in (self.profile.topics or []) else 1,
            self.open_matches,
            self.profile.last_matched_at or _EPOCH,
        )


def fits_request(profile: SupporterProfile, request: HelpRequest) -> bool:
    return request.language in (profile.languages or []) and request.topic not in (
        profile.excluded_topics or []
    )


async def supporters_in_good_standing(
    ctx: FlowContext, *where: ColumnElement[bool]
) -> list[tuple[Participant, SupporterProfile]]:
    rows = await ctx.session.execute(
        select(Participant, SupporterProfile)
        .join(SupporterProfile, SupporterProfile.participant_id == Participant.id)
        .where(*GOOD_STANDING, *where)
        .order_by(Participant.id)
    )
    return [(person, profile) for person, profile in rows.all()]


def _not_paused(now: datetime) -> ColumnElement[bool]:
    return or_(SupporterProfile.paused_until.is_(None), SupporterProfile.paused_until <= now)


def _holds(column: Any, value: str) -> ColumnElement[bool]:
    """The JSON list in `column` holds the string `value` (read from its text in the database,
    the same on SQLite and PostgreSQL; fits_request still decides, this only narrows)."""
    return cast(column, String).contains(f'"{value}"', autoescape=True)


async def on_duty_now(
    ctx: FlowContext, *where: ColumnElement[bool]
) -> list[tuple[Participant, SupporterProfile]]:
    """Supporters in good standing who are on duty, not paused, and within their hours now."""
    rows = await supporters_in_good_standing(
        ctx, SupporterProfile.on_duty.is_(True), _not_paused(ctx.now), *where
    )
    return [
        (person, profile)
        for person, profile in rows
        if is_within_hours(profile.weekly_hours, profile.timezone, ctx.now)
    ]


async def _on_duty_chunks(
    ctx: FlowContext, query: Select[Any], chunk: int = CHUNK
) -> AsyncIterator[Sequence[Row[Any]]]:
    """Pages of `query` (ordered best first), so nobody loads every supporter at once."""
    offset = 0
    while True:
        rows = (await ctx.session.execute(query.limit(chunk).offset(offset))).all()
        if rows:
            yield rows
        if len(rows) < chunk:
            return
        offset += chunk


async def anyone_on_duty(ctx: FlowContext, language: str) -> bool:
    query = (
        select(SupporterProfile.weekly_hours, SupporterProfile.timezone)
        .join(Participant, SupporterProfile.participant_id == Participant.id)
        .where(
            *GOOD_STANDING,
            SupporterProfile.on_duty.is_(True),
            _not_paused(ctx.now),
            _holds(SupporterProfile.languages, language),
        )  # fmt: skip
        .order_by(SupporterProfile.participant_id)
    )
    async for rows in _on_duty_chunks(ctx, query):
        if any(is_within_hours(hours, zone, ctx.now) for hours, zone in rows):
            return True
    return False


async def why_unmatched(ctx: FlowContext, request: HelpRequest) -> str:
    """The true reason nobody was offered her request: "night" (nobody on duty), "language"
    (nobody on duty speaks hers), "topic" (those who do have set this topic aside) or "busy".

    Supporters on duty are read best first (speaks her language and takes the topic, speaks it,
    neither; any time before set hours), so the first one within her hours tells the reason.
    """
    speaks = _holds(SupporterProfile.languages, request.language)
    takes = ~_holds(SupporterProfile.excluded_topics, request.topic)
    query = (
        select(
            SupporterProfile.languages,
            SupporterProfile.excluded_topics,
            SupporterProfile.weekly_hours,
            SupporterProfile.timezone,
        )  # fmt: skip
        .join(Participant, SupporterProfile.participant_id == Participant.id)
        .where(*GOOD_STANDING, SupporterProfile.on_duty.is_(True), _not_paused(ctx.now))
        .order_by(
            case((and_(speaks, takes), 0), (speaks, 1), else_=2),
            case((cast(SupporterProfile.weekly_hours, String) == "[]", 0), else_=1),
            SupporterProfile.participant_id,
        )
    )
    async for rows in _on_duty_chunks(ctx, query):
        for languages, excluded, hours, zone in rows:
            if not is_within_hours(hours, zone, ctx.now):
                continue
            if request.language not in (languages or []):
                return "language"
            return "topic" if request.topic in (excluded or []) else "busy"
    return "night"


async def open_match_counts(ctx: FlowContext, supporter_ids: Iterable[int]) -> dict[int, int]:
    ids = list(supporter_ids)
    if not ids:
        return {}
    rows = await ctx.session.execute(
        select(Match.supporter_id, func.count())
        .where(Match.supporter_id.in_(ids), Match.status.in_(OPEN_MATCH))
        .group_by(Match.supporter_id)
    )
    return {sid: n for sid, n in rows.all()}


async def weekly_match_counts(ctx: FlowContext, supporter_ids: Iterable[int]) -> dict[int, int]:
    """Conversations each began in the last seven days: the weekly cap counts these."""
    ids = list(supporter_ids)
    if not ids:
        return {}
    rows = await ctx.session.execute(
        select(Match.supporter_id, func.count())
        .where(Match.supporter_id.in_(ids), Match.started_at >= ctx.now - WEEK)
        .group_by(Match.supporter_id)
    )
    return {sid: n for sid, n in rows.all()}


def weekly_room(ctx: FlowContext, this_week: int, pending: int) -> int:
    """How many more she may take this week under SUPPORTER_WEEKLY_CAP (0: no cap)."""
    cap = int(getattr(ctx.config, "supporter_weekly_cap", 0) or 0)
    return 10**6 if cap <= 0 else cap - this_week - pending


async def pending_offer_counts(ctx: FlowContext, supporter_ids: Iterable[int]) -> dict[int, int]:
    ids = list(supporter_ids)
    if not ids:
        return {}
    rows = await ctx.session.execute(
        select(Offer.supporter_id, func.count())
        .where(Offer.supporter_id.in_(ids), Offer.status == OfferStatus.PENDING)
        .group_by(Offer.supporter_id)
    )
    return {sid: n for sid, n in rows.all()}


async def barred_for(ctx: FlowContext, seeker_id: int) -> set[int]:
    """People this seeker must never meet: blocks either way, and anyone she reported."""
    blocks = await ctx.session.execute(
        select(ParticipantBlock.blocker_id, ParticipantBlock.blocked_id).where(
            or_(ParticipantBlock.blocker_id == seeker_id, ParticipantBlock.blocked_id == seeker_id)
        )
    )
    barred = {a if b == seeker_id else b for a, b in blocks.all()}
    reported = await ctx.session.execute(
        select(Report.reported_id).where(
            Report.reporter_id == seeker_id, Report.reported_id.is_not(None)
        )
    )
    barred.update(r for r in reported.scalars() if r is not None)
    return barred


def _count_by_supporter(column: Any, *where: ColumnElement[bool]) -> Any:
    return (
        select(column.label("supporter_id"), func.count().label("n"))
        .where(*where)
        .group_by(column)
        .subquery()
    )


def barred_ids(seeker_id: int) -> Select[Any]:
    """barred_for as a subquery: blocks either way, and anyone she reported."""
    return union(
        select(ParticipantBlock.blocked_id).where(ParticipantBlock.blocker_id == seeker_id),
        select(ParticipantBlock.blocker_id).where(ParticipantBlock.blocked_id == seeker_id),
        select(Report.reported_id).where(
            Report.reporter_id == seeker_id, Report.reported_id.is_not(None)
        ),
    )


def barring(supporter_id: int) -> Select[Any]:
    """The seekers for whom this supporter is barred (barred_for seen from her side)."""
    return union(
        select(ParticipantBlock.blocker_id).where(ParticipantBlock.blocked_id == supporter_id),
        select(ParticipantBlock.blocked_id).where(ParticipantBlock.blocker_id == supporter_id),
        select(Report.reporter_id).where(Report.reported_id == supporter_id),
    )


async def eligible_supporters(
    ctx: FlowContext, request: HelpRequest, limit: int | None = None
) -> list[Candidate]:
    """Everyone who may be offered this request now, best first (the first `limit` of them).

    One query does the standing, language, topic, bars, earlier offers, room and ranking, a
    page at a time; only the weekly hours (in each supporter's own zone) are checked here.
    """
    again = await supporter_again(ctx, request.seeker_id)
    opened = _count_by_supporter(Match.supporter_id, Match.status.in_(OPEN_MATCH))
    pending = _count_by_supporter(Offer.supporter_id, Offer.status == OfferStatus.PENDING)
    weekly = _count_by_supporter(Match.supporter_id, Match.started_at >= ctx.now - WEEK)
    n_open = func.coalesce(opened.c.n, 0)
    n_pending = func.coalesce(pending.c.n, 0)
    cap = int(getattr(ctx.config, "supporter_weekly_cap", 0) or 0)
    room = [func.coalesce(weekly.c.n, 0) + n_pending < cap] if cap > 0 else []
    offered_before = select(Offer.id).where(
        Offer.request_id == request.id, Offer.supporter_id == Participant.id
    )
    query = (
        select(Participant, SupporterProfile, n_open)
        .join(SupporterProfile, SupporterProfile.participant_id == Participant.id)
        .outerjoin(opened, opened.c.supporter_id == Participant.id)
        .outerjoin(pending, pending.c.supporter_id == Participant.id)
        .outerjoin(weekly, weekly.c.supporter_id == Participant.id)
        .where(
            *GOOD_STANDING,
            SupporterProfile.on_duty.is_(True),
            _not_paused(ctx.now),
            Participant.id != request.seeker_id,
            _holds(SupporterProfile.languages, request.language),
            ~_holds(SupporterProfile.excluded_topics, request.topic),
            Participant.id.not_in(barred_ids(request.seeker_id)),
            ~offered_before.exists(),
            # Pending offers count against capacity, so nobody holds more offers than she can take.
            n_open + n_pending < SupporterProfile.capacity,
            *room,
        )
        .order_by(
            # "The same supporter again", when both said yes at the end of their last talk;
            # then topic fit, then fairness: fewest open conversations, longest since a match.
            case((Participant.id == (again or -1), 0), else_=1),
            case((_holds(SupporterProfile.topics, request.topic), 0), else_=1),
            n_open,
            SupporterProfile.last_matched_at.is_not(None),
            SupporterProfile.last_matched_at,
            Participant.id,
        )
    )
    found: list[Candidate] = []
    async for rows in _on_duty_chunks(ctx, query, max(CHUNK // 8, 4 * (limit or CHUNK))):
        for person, profile, open_matches in rows:
            if fits_request(profile, request) and is_within_hours(
                profile.weekly_hours, profile.timezone, ctx.now
            ):
                found.append(Candidate(person, profile, int(open_matches)))
                if limit is not None and len(found) >= limit:
                    return found
    return found


async def supporter_again(ctx: FlowContext, seeker_id: int) -> int | None:
    """Her last ended conversation's supporter, if both said they would talk again."""
    query = (
        select(Match.supporter_id, Match.seeker_again, Match.supporter_again)
        .where(Match.seeker_id == seeker_id, Match.ended_at.is_not(None))
        .order_by(Match.ended_at.desc(), Match.id.desc())
        .limit(1)
    )
    row = (await ctx.session.execute(query)).first()
    return row[0] if row is not None and row[1] and row[2] else None


async def free_places(
    ctx: FlowContext, supporter: Participant
) -> tuple[SupporterProfile | None, int]:
    """Her profile and how many more offers she may hold, if she is in good standing."""
    rows = await supporters_in_good_standing(ctx, Participant.id == supporter.id)
    if not rows:
        return None, 0
    _, profile = rows[0]
    matches = (await open_match_counts(ctx, [supporter.id])).get(supporter.id, 0)
    pending = (await pending_offer_counts(ctx, [supporter.id])).get(supporter.id, 0)
    weekly = (await weekly_match_counts(ctx, [supporter.id])).get(supporter.id, 0)
    return profile, min(profile.capacity - matches - pending, weekly_room(ctx, weekly, pending))
