"""Offers: a waiting request is put before the best few eligible supporters, and taken back.

Her words (the note) are never in an offer, only topic and language. An offer is pending until
she accepts or declines, it times out, or it is withdrawn because someone else took the request.
"""

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from flows.context import FlowContext
from flows.conversation.eligibility import (
    barring,
    eligible_supporters,
    fits_request,
    free_places,
)
from flows.conversation.lookups import language_param, send_with_choices, topic_param
from flows.events import Button, OutboundMessage
from models import HelpRequest, Offer, OfferStatus, Participant, RequestStatus


def _expires(ctx: FlowContext) -> datetime:
    return ctx.now + timedelta(minutes=float(ctx.config.offer_timeout_minutes))


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
    for candidate in await eligible_supporters(ctx, request, limit=slots):
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


async def offer_waiting_requests(ctx: FlowContext, supporter: Participant) -> int:
    """She came on duty: offer her the waiting requests she may take, urgent first, then the
    highest danger score (as crisis lines order their queue by risk), then the oldest.

    Returns how many were offered; says nothing when there are none (the caller answers her).
    """
    profile, free = await free_places(ctx, supporter)
    if profile is None or free <= 0:
        return 0
    # One query: the requests she may take (her languages, not a topic she set aside, no seeker
    # who barred her or whom she barred, not offered to her before unless that offer expired).
    earlier = aliased(Offer)
    rows = (
        await ctx.session.execute(
            select(HelpRequest, earlier)
            .outerjoin(
                earlier,
                and_(earlier.request_id == HelpRequest.id, earlier.supporter_id == supporter.id),
            )
            .where(
                HelpRequest.status == RequestStatus.WAITING,
                HelpRequest.seeker_id != supporter.id,
                HelpRequest.language.in_(list(profile.languages or [])),
                HelpRequest.topic.not_in(list(profile.excluded_topics or [])),
                HelpRequest.seeker_id.not_in(barring(supporter.id)),
                or_(earlier.id.is_(None), earlier.status == OfferStatus.EXPIRED),
            )
            .order_by(
                HelpRequest.urgent.desc(),
                HelpRequest.danger_score.desc(),
                HelpRequest.created_at,
                HelpRequest.id,
            )
            .limit(free)
        )
    ).all()
    offered = 0
    for request, offer in rows:
        if not fits_request(profile, request):
            continue
        if offer is None:
            offer = Offer(request_id=request.id, supporter_id=supporter.id, created_at=ctx.now,
                          status=OfferStatus.PENDING, expires_at=_expires(ctx))  # fmt: skip
            ctx.session.add(offer)
            await ctx.session.flush()
        else:
            # She may never have seen it; declined and withdrawn offers stay closed.
            offer.status, offer.created_at, offer.expires_at = (
                OfferStatus.PENDING, ctx.now, _expires(ctx)
            )  # fmt: skip
        await _send_offer(ctx, supporter, offer, request)
        offered += 1
    return offered
