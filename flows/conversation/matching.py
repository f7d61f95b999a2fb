"""Matching: who may take a help request, who is asked first, and the one accept that wins.

A request is offered to the best few eligible supporters at once; the first Accept wins by a
conditional update, the others see their offer withdrawn. Offers time out and move on to the
next supporters; a coordinator hears of a request nobody took; a request waits at night and
expires kindly. Her words (the note) are never in an offer, only topic and language.

```mermaid
stateDiagram-v2
    [*] --> waiting: open_request (offers to the top K eligible)
    waiting --> waiting: decline / offer time-out (next supporters offered)
    waiting --> waiting: unmatched_alert (coordinator told, she is told)
    waiting --> matched: first accept (conditional update)
    waiting --> expired: request_expiry
    waiting --> cancelled: she cancels (relay)
    matched --> ended: end_match (relay)
    matched --> waiting: hand-over (a new request, the supporter excluded)
    state "offer" as offer {
        [*] --> pending
        pending --> accepted: accept wins
        pending --> withdrawn: another accepted / request ended / at capacity
        pending --> declined: decline
        pending --> expired: offer_timeout
        expired --> pending: she comes on duty (offer_waiting_requests)
    }
```
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, update

from flows import metrics
from flows.context import FlowContext
from flows.events import TEXT_ONLY_CHANNELS, Button, EventKind, InboundEvent, OutboundMessage, msgid
from flows.weekly_hours import is_within_hours
from models import (
    FlowState,
    HelpRequest,
    Match,
    MatchStatus,
    Offer,
    OfferStatus,
    Participant,
    ParticipantBlock,
    ParticipantStatus,
    Report,
    RequestStatus,
    Role,
    SupporterProfile,
)

log = logging.getLogger(__name__)

NAME = "matching"
OPEN_MATCH = (MatchStatus.ACTIVE, MatchStatus.PAUSED)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def topic_param(topic: str) -> dict[str, str]:
    return msgid(f"topic.{topic}")


def language_param(code: str) -> dict[str, str]:
    return msgid(f"language.{code}")


# --- Facts ---------------------------------------------------------------------------------------


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


async def waiting_request_of(ctx: FlowContext, seeker_id: int) -> HelpRequest | None:
    return (
        await ctx.session.execute(
            select(HelpRequest)
            .where(HelpRequest.seeker_id == seeker_id, HelpRequest.status == RequestStatus.WAITING)
            .order_by(HelpRequest.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


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


def _fits_request(profile: SupporterProfile, request: HelpRequest) -> bool:
    return request.language in (profile.languages or []) and request.topic not in (
        profile.excluded_topics or []
    )


async def eligible_supporters(ctx: FlowContext, request: HelpRequest) -> list[Candidate]:
    """Everyone who may be offered this request now, best first."""
    rows = (
        await ctx.session.execute(
            select(Participant, SupporterProfile)
            .join(SupporterProfile, SupporterProfile.participant_id == Participant.id)
            .where(
                Participant.role == Role.SUPPORTER,
                Participant.status == ParticipantStatus.ACTIVE,
                Participant.id != request.seeker_id,
                SupporterProfile.approved.is_(True),
                SupporterProfile.suspended.is_(False),
                SupporterProfile.on_duty.is_(True),
            )
            .order_by(Participant.id)
        )
    ).all()
    rows = [(p, prof) for p, prof in rows if _fits_request(prof, request)]
    rows = [
        (p, prof) for p, prof in rows if is_within_hours(prof.weekly_hours, prof.timezone, ctx.now)
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
    candidates = [
        Candidate(person, profile, matches.get(person.id, 0))
        for person, profile in rows
        if person.id not in barred
        and person.id not in already
        # Pending offers count against capacity, so nobody holds more offers than she can take.
        and matches.get(person.id, 0) + pending.get(person.id, 0) < profile.capacity
    ]
    return sorted(candidates, key=lambda c: c.rank(request.topic))


async def anyone_on_duty(ctx: FlowContext, language: str) -> bool:
    rows = (
        await ctx.session.execute(
            select(SupporterProfile)
            .join(Participant, Participant.id == SupporterProfile.participant_id)
            .where(
                Participant.role == Role.SUPPORTER,
                Participant.status == ParticipantStatus.ACTIVE,
                SupporterProfile.approved.is_(True),
                SupporterProfile.suspended.is_(False),
                SupporterProfile.on_duty.is_(True),
            )
        )
    ).scalars()
    return any(
        language in (p.languages or []) and is_within_hours(p.weekly_hours, p.timezone, ctx.now)
        for p in rows
    )


# --- Sending with buttons ---------------------------------------------------------------------


async def send_with_choices(ctx: FlowContext, recipient: Participant, message: OutboundMessage,
                            **extra: object) -> None:  # fmt: skip
    """Queue a message with buttons to anyone; on text-only channels a typed "1" must pick them.

    The router maps typed numbers to the choices in her state, so they are written there too.
    Her state is taken only if nobody holds it (SKIP LOCKED): if she is writing at this very
    moment her own flow sets her choices, and waiting here could deadlock two writers.
    """
    ctx.send(recipient, message, **extra)

    if recipient.channel not in TEXT_ONLY_CHANNELS or not message.buttons:
        return
    choices = [b.to_json() for b in message.buttons]
    if recipient.id == ctx.participant.id:
        ctx.state.data = {**(ctx.state.data or {}), "choices": choices}
        return
    query = select(FlowState).where(FlowState.participant_id == recipient.id)
    if ctx.session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    state = (await ctx.session.execute(query)).scalar_one_or_none()
    if state is not None:
        state.data = {**(state.data or {}), "choices": choices}


# --- Offers --------------------------------------------------------------------------------------


def _minutes(ctx: FlowContext, name: str) -> float:
    return float(getattr(ctx.config, name))


async def _send_offer(
    ctx: FlowContext, supporter: Participant, offer: Offer, request: HelpRequest
) -> None:
    await send_with_choices(
        ctx,
        supporter,
        OutboundMessage(
            "match.offer_urgent" if request.urgent else "match.offer",
            {"topic": topic_param(request.topic), "language": language_param(request.language)},
            (
                Button("match.accept", f"offer:accept:{offer.id}"),
                Button("match.decline", f"offer:decline:{offer.id}"),
            ),
            kind="offer",
        ),
    )
    ctx.schedule("offer_timeout", offer.expires_at, offer.id)


def _expires(ctx: FlowContext) -> datetime:
    return ctx.now + timedelta(minutes=_minutes(ctx, "offer_timeout_minutes"))


async def make_offers(ctx: FlowContext, request: HelpRequest) -> int:
    """Offer the request to the best eligible supporters, up to K pending at once."""
    if request.status != RequestStatus.WAITING:
        return 0
    pending = (
        await ctx.session.execute(
            select(func.count()).where(
                Offer.request_id == request.id, Offer.status == OfferStatus.PENDING
            )
        )
    ).scalar_one()
    slots = int(ctx.config.offer_top_k) - int(pending)
    if slots <= 0:
        return 0
    made = 0
    for candidate in (await eligible_supporters(ctx, request))[:slots]:
        offer = Offer(
            request_id=request.id,
            supporter_id=candidate.person.id,
            status=OfferStatus.PENDING,
            created_at=ctx.now,
            expires_at=_expires(ctx),
        )
        ctx.session.add(offer)
        await ctx.session.flush()
        await _send_offer(ctx, candidate.person, offer, request)
        made += 1
    return made


async def withdraw_offers(
    ctx: FlowContext, request: HelpRequest, text_id: str, *, keep: int | None = None
) -> None:
    """Withdraw every pending offer of a request (but `keep`) and tell the supporters why."""
    offers = (
        (
            await ctx.session.execute(
                select(Offer).where(
                    Offer.request_id == request.id,
                    Offer.status == OfferStatus.PENDING,
                    Offer.id != (keep or -1),
                )
            )
        )
        .scalars()
        .all()
    )
    for offer in offers:
        offer.status = OfferStatus.WITHDRAWN
        supporter = await ctx.session.get(Participant, offer.supporter_id)
        if supporter is not None:
            ctx.send(supporter, OutboundMessage(text_id, kind="offer"))


# --- Seams for other flows -----------------------------------------------------------------------


async def create_request(
    ctx: FlowContext,
    seeker: Participant,
    *,
    topic: str,
    language: str,
    note: str | None,
    urgent: bool,
    exclude: Iterable[int] = (),
) -> HelpRequest:
    """A waiting request with its alert and expiry scheduled; `exclude` are never offered it."""
    request = HelpRequest(
        seeker_id=seeker.id,
        status=RequestStatus.WAITING,
        topic=topic,
        language=language,
        urgent=urgent,
        note=note,
        created_at=ctx.now,
    )
    ctx.session.add(request)
    await ctx.session.flush()
    for supporter_id in exclude:
        # An offer row that is already over keeps her from being offered this request again.
        ctx.session.add(
            Offer(
                request_id=request.id,
                supporter_id=supporter_id,
                status=OfferStatus.WITHDRAWN,
                created_at=ctx.now,
                expires_at=ctx.now,
            )
        )
    alert_after = timedelta(minutes=_minutes(ctx, "coordinator_alert_after_minutes"))
    ctx.schedule("unmatched_alert", ctx.now + alert_after, request.id)
    expiry = timedelta(hours=float(ctx.config.request_expiry_hours))
    ctx.schedule("request_expiry", ctx.now + expiry, request.id)
    await ctx.session.flush()
    return request


def waiting_buttons(request: HelpRequest) -> list[Button]:
    return [
        Button("match.button_help_now", "menu:help_now"),
        Button("match.button_cancel", f"relay:cancel:{request.id}"),
    ]


async def tell_where_she_stands(
    ctx: FlowContext, seeker: Participant, request: HelpRequest, offered: int
) -> None:
    """Honest words: someone will answer, roughly when, and what she can do meanwhile."""
    minutes = round(_minutes(ctx, "coordinator_alert_after_minutes"))
    if offered:
        text_id = "match.waiting"
    elif await anyone_on_duty(ctx, request.language):
        text_id = "match.waiting_busy"
    else:
        text_id = "match.waiting_night"
    await send_with_choices(
        ctx, seeker, OutboundMessage(text_id, {"minutes": minutes}, tuple(waiting_buttons(request)))
    )


async def open_request(
    ctx: FlowContext, *, topic: str, note: str | None, urgent: bool
) -> HelpRequest:
    """Open her request (INTAKE calls this), offer it, and tell her where she stands."""
    seeker = ctx.participant
    existing = (
        await ctx.session.execute(
            select(HelpRequest)
            .where(
                HelpRequest.seeker_id == seeker.id,
                HelpRequest.status.in_((RequestStatus.WAITING, RequestStatus.MATCHED)),
            )
            .order_by(HelpRequest.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if existing is not None:
        ctx.reply("match.already_open")
        await ctx.resume("relay")
        return existing
    request = await create_request(
        ctx, seeker, topic=topic, language=ctx.language, note=note, urgent=urgent
    )
    offered = await make_offers(ctx, request)
    await tell_where_she_stands(ctx, seeker, request, offered)
    ctx.go("relay", "waiting", request_id=request.id)
    return request


async def offer_waiting_requests(ctx: FlowContext, supporter: Participant) -> int:
    """She came on duty: offer her the waiting requests she may take, urgent and oldest first.

    Returns how many were offered; says nothing when there are none (the caller answers her).
    """
    profile = await ctx.session.get(SupporterProfile, supporter.id)
    if (
        profile is None
        or supporter.role != Role.SUPPORTER
        or supporter.status != ParticipantStatus.ACTIVE
        or not profile.approved
        or profile.suspended
    ):
        return 0
    matches = (await open_match_counts(ctx, [supporter.id])).get(supporter.id, 0)
    pending = (await pending_offer_counts(ctx, [supporter.id])).get(supporter.id, 0)
    free = profile.capacity - matches - pending
    if free <= 0:
        return 0
    requests = (
        (
            await ctx.session.execute(
                select(HelpRequest)
                .where(
                    HelpRequest.status == RequestStatus.WAITING,
                    HelpRequest.seeker_id != supporter.id,
                )
                .order_by(HelpRequest.urgent.desc(), HelpRequest.created_at, HelpRequest.id)
            )
        )
        .scalars()
        .all()
    )
    offered = 0
    for request in requests:
        if offered >= free:
            break
        if not _fits_request(profile, request):
            continue
        if supporter.id in await barred_for(ctx, request.seeker_id):
            continue
        offer = (
            await ctx.session.execute(
                select(Offer).where(
                    Offer.request_id == request.id, Offer.supporter_id == supporter.id
                )
            )
        ).scalar_one_or_none()
        if offer is None:
            offer = Offer(request_id=request.id, supporter_id=supporter.id, created_at=ctx.now,
                          status=OfferStatus.PENDING, expires_at=_expires(ctx))  # fmt: skip
            ctx.session.add(offer)
            await ctx.session.flush()
        elif offer.status == OfferStatus.EXPIRED:
            # She may never have seen it; declined and withdrawn offers stay closed.
            offer.status, offer.created_at, offer.expires_at = (
                OfferStatus.PENDING, ctx.now, _expires(ctx)
            )  # fmt: skip
        else:
            continue
        await _send_offer(ctx, supporter, offer, request)
        offered += 1
    return offered


# --- Accept and decline --------------------------------------------------------------------------


async def _lock(ctx: FlowContext, model: type, key: int):  # type: ignore[no-untyped-def]
    column = model.participant_id  # type: ignore[attr-defined]
    return (
        await ctx.session.execute(
            select(model)
            .where(column == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def accept(ctx: FlowContext, offer_id: int) -> Match | None:
    """The first accept wins: conditional updates of the offer and of the request."""
    me = ctx.participant
    offer = await ctx.session.get(Offer, offer_id)
    if offer is None or offer.supporter_id != me.id:
        ctx.reply("match.offer_unknown")
        return None
    request = await ctx.session.get(HelpRequest, offer.request_id)
    assert request is not None
    if offer.status == OfferStatus.ACCEPTED:
        ctx.reply("match.offer_already_yours")
        return None
    if offer.status != OfferStatus.PENDING:
        ctx.reply("match.offer_taken" if request.status != RequestStatus.WAITING
                  else "match.offer_expired")  # fmt: skip
        return None
    # Lock order (her state, then the supporter's profile) matches every other writer of these
    # rows, so concurrent accepts queue instead of deadlocking.
    seeker_state = await _lock(ctx, FlowState, request.seeker_id)
    profile = await _lock(ctx, SupporterProfile, me.id)
    if profile is None or not profile.approved or profile.suspended:
        offer.status = OfferStatus.WITHDRAWN
        ctx.reply("match.cannot_accept")
        return None
    open_now = (await open_match_counts(ctx, [me.id])).get(me.id, 0)
    if open_now >= profile.capacity:
        offer.status = OfferStatus.WITHDRAWN
        ctx.reply("match.at_capacity", capacity=profile.capacity)
        await make_offers(ctx, request)
        return None
    won_offer = await ctx.session.execute(
        update(Offer)
        .where(Offer.id == offer.id, Offer.status == OfferStatus.PENDING)
        .values(status=OfferStatus.ACCEPTED)
    )
    if won_offer.rowcount != 1:
        ctx.reply("match.offer_taken")
        return None
    won_request = await ctx.session.execute(
        update(HelpRequest)
        .where(HelpRequest.id == request.id, HelpRequest.status == RequestStatus.WAITING)
        .values(status=RequestStatus.MATCHED, matched_at=ctx.now)
    )
    if won_request.rowcount != 1:
        await ctx.session.execute(
            update(Offer).where(Offer.id == offer.id).values(status=OfferStatus.WITHDRAWN)
        )
        ctx.reply("match.offer_taken")
        return None
    await ctx.session.refresh(request)
    match = Match(
        request_id=request.id,
        seeker_id=request.seeker_id,
        supporter_id=me.id,
        status=MatchStatus.ACTIVE,
        started_at=ctx.now,
        last_activity_at=ctx.now,
    )
    ctx.session.add(match)
    await ctx.session.flush()
    await withdraw_offers(ctx, request, "match.offer_taken", keep=offer.id)
    profile.last_matched_at = ctx.now
    metrics.match_wait.observe(max(0.0, (ctx.now - request.created_at).total_seconds()))
    from flows.conversation.relay import (
        start_conversation,  # relay builds on matching, not the reverse
    )

    await start_conversation(ctx, match, request, seeker_state)
    return match


async def decline(ctx: FlowContext, offer_id: int) -> None:
    offer = await ctx.session.get(Offer, offer_id)
    if offer is None or offer.supporter_id != ctx.participant.id:
        ctx.reply("match.offer_unknown")
        return
    declined = await ctx.session.execute(
        update(Offer)
        .where(Offer.id == offer.id, Offer.status == OfferStatus.PENDING)
        .values(status=OfferStatus.DECLINED)
    )
    ctx.reply("match.declined" if declined.rowcount == 1 else "match.offer_gone")
    request = await ctx.session.get(HelpRequest, offer.request_id)
    if request is not None and declined.rowcount == 1:
        await make_offers(ctx, request)


class MatchingFlow:
    """Answers the Accept / Decline buttons of offers, from whatever state she is in."""

    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        parts = (event.choice or "").split(":")
        if event.kind == EventKind.CHOICE and len(parts) == 3 and parts[2].isdigit():
            if parts[1] == "accept":
                await accept(ctx, int(parts[2]))
                return
            if parts[1] == "decline":
                await decline(ctx, int(parts[2]))
                return
        ctx.reply("match.offer_unknown")


# --- Scheduled work (bot/jobs.py calls these) ----------------------------------------------------


async def offer_timed_out(ctx: FlowContext, offer_id: int) -> None:
    """An unanswered offer expires and the request moves on to the next supporters."""
    offer = await ctx.session.get(Offer, offer_id)
    if offer is None or offer.status != OfferStatus.PENDING or offer.expires_at > ctx.now:
        return
    expired = await ctx.session.execute(
        update(Offer)
        .where(Offer.id == offer.id, Offer.status == OfferStatus.PENDING)
        .values(status=OfferStatus.EXPIRED)
    )
    if expired.rowcount != 1:
        return
    supporter = await ctx.session.get(Participant, offer.supporter_id)
    if supporter is not None:
        ctx.send(supporter, OutboundMessage("match.offer_timed_out", kind="offer"))
    request = await ctx.session.get(HelpRequest, offer.request_id)
    if request is not None and request.status == RequestStatus.WAITING:
        await make_offers(ctx, request)


async def request_unmatched(ctx: FlowContext, request_id: int) -> None:
    """Nobody took it in time: an on-duty coordinator hears (no personal data), she hears too."""
    from flows.alerts import alert_coordinators

    request = await ctx.session.get(HelpRequest, request_id)
    if request is None or request.status != RequestStatus.WAITING or request.coordinator_alerted:
        return
    request.coordinator_alerted = True
    waited = round((ctx.now - request.created_at).total_seconds() / 60)
    await alert_coordinators(
        ctx,
        "match.alert_unmatched",
        ref=request.id,
        minutes=waited,
        topic=topic_param(request.topic),
        language=language_param(request.language),
    )
    seeker = await ctx.session.get(Participant, request.seeker_id)
    if seeker is not None:
        text_id = (
            "match.still_looking"
            if await anyone_on_duty(ctx, request.language)
            else ("match.still_looking_night")
        )
        message = OutboundMessage(text_id, {}, tuple(waiting_buttons(request)))
        await send_with_choices(ctx, seeker, message)
    await make_offers(ctx, request)


async def request_expired(ctx: FlowContext, request_id: int) -> None:
    """A request nobody could take in time ends kindly; her note and waiting words go."""
    request = await ctx.session.get(HelpRequest, request_id)
    if request is None or request.status != RequestStatus.WAITING:
        return
    seeker_state = await _lock(ctx, FlowState, request.seeker_id)
    done = await ctx.session.execute(
        update(HelpRequest)
        .where(HelpRequest.id == request.id, HelpRequest.status == RequestStatus.WAITING)
        .values(status=RequestStatus.EXPIRED, ended_at=ctx.now, note=None)
    )
    if done.rowcount != 1:
        return
    await withdraw_offers(ctx, request, "match.offer_withdrawn")
    seeker = await ctx.session.get(Participant, request.seeker_id)
    if seeker is None:
        return
    buttons: tuple[Button, ...] = ()
    if "intake" in ctx.flows:
        buttons = (Button("match.button_ask_again", "menu:talk"),
                   Button("match.button_help_now", "menu:help_now"))  # fmt: skip
    await send_with_choices(ctx, seeker, OutboundMessage("match.expired", {}, buttons))
    if seeker_state is not None and seeker_state.flow == "relay":
        seeker_state.data = {}
        if "intake" in ctx.flows:
            seeker_state.flow, seeker_state.step = "intake", "menu"
