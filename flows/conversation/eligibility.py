"""Who may be offered a request: one standing check, then language, topic, hours, bars and room.

A supporter in good standing is an active, approved, unsuspended supporter; she is offered a
request only when it fits her languages and topics, she is on duty within her hours, the seeker
never barred her, and her open conversations plus pending offers leave room.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select

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


async def on_duty_now(
    ctx: FlowContext, *where: ColumnElement[bool]
) -> list[tuple[Participant, SupporterProfile]]:
    """Supporters in good standing who are on duty, not paused, and within their hours now."""
    not_paused = or_(
        SupporterProfile.paused_until.is_(None), SupporterProfile.paused_until <= ctx.now
    )
    rows = await supporters_in_good_standing(
        ctx, SupporterProfile.on_duty.is_(True), not_paused, *where
    )
    return [
        (person, profile)
        for person, profile in rows
        if is_within_hours(profile.weekly_hours, profile.timezone, ctx.now)
    ]


async def anyone_on_duty(ctx: FlowContext, language: str) -> bool:
    return any(language in (profile.languages or []) for _, profile in await on_duty_now(ctx))


async def why_unmatched(ctx: FlowContext, request: HelpRequest) -> str:
    """The true reason nobody was offered her request: "night" (nobody on duty), "language"
    (nobody on duty speaks hers), "topic" (those who do have set this topic aside) or "busy"."""
    on_duty = [profile for _, profile in await on_duty_now(ctx)]
    if not on_duty:
        return "night"
    speakers = [p for p in on_duty if request.language in (p.languages or [])]
    if not speakers:
        return "language"
    if all(request.topic in (p.excluded_topics or []) for p in speakers):
        return "topic"
    return "busy"


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


async def eligible_supporters(ctx: FlowContext, request: HelpRequest) -> list[Candidate]:
    """Everyone who may be offered this request now, best first."""
    rows = [
        (person, profile)
        for person, profile in await on_duty_now(ctx, Participant.id != request.seeker_id)
        if fits_request(profile, request)
    ]
    if not rows:
        return []
    ids = [p.id for p, _ in rows]
    barred = await barred_for(ctx, request.seeker_id)
    already = set(
        (
            await ctx.session.execute(
                select(Offer.supporter_id).where(Offer.request_id == request.id)
            )
        ).scalars()
    )
    matches = await open_match_counts(ctx, ids)
    pending = await pending_offer_counts(ctx, ids)
    weekly = await weekly_match_counts(ctx, ids)
    candidates = [
        Candidate(person, profile, matches.get(person.id, 0))
        for person, profile in rows
        if person.id not in barred
        and person.id not in already
        # Pending offers count against capacity, so nobody holds more offers than she can take.
        and matches.get(person.id, 0) + pending.get(person.id, 0) < profile.capacity
        and weekly_room(ctx, weekly.get(person.id, 0), pending.get(person.id, 0)) > 0
    ]
    ranked = sorted(candidates, key=lambda c: c.rank(request.topic))
    # "The same supporter again", when both said yes at the end of their last conversation.
    again = await supporter_again(ctx, request.seeker_id)
    return sorted(ranked, key=lambda c: c.person.id != again)


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
