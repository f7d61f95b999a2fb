"""Accept and decline: the first accept wins, by conditional updates, and starts the conversation.

Everyone else who held an offer sees it withdrawn; a supporter who is at capacity, suspended or
no longer approved cannot accept, and the request moves on to the next supporters.
"""

from sqlalchemy import update

from flows import metrics
from flows.context import FlowContext
from flows.conversation.eligibility import open_match_counts
from flows.conversation.lifecycle import start_conversation
from flows.conversation.lookups import lock_state
from flows.conversation.offers import make_offers, withdraw_offers
from models import (
    FlowState,
    HelpRequest,
    Match,
    MatchStatus,
    Offer,
    OfferStatus,
    RequestStatus,
    SupporterProfile,
)


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
    seeker_state = await lock_state(ctx, FlowState, request.seeker_id)
    profile = await lock_state(ctx, SupporterProfile, me.id)
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
