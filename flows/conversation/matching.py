"""Matching: the Accept / Decline buttons of offers, and the clock that moves a request on.

A request is offered to the best few eligible supporters at once (eligibility, offers); the
first Accept wins by a conditional update (accept). Here offers time out and move on to the next
supporters, a coordinator hears of a request nobody took, and a request expires kindly.

```mermaid
stateDiagram-v2
    [*] --> waiting: submit_request (offers to the top K eligible)
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

from sqlalchemy import update

from flows.alerts import alert_coordinators
from flows.context import FlowContext
from flows.conversation.accept import accept, decline
from flows.conversation.eligibility import why_unmatched
from flows.conversation.lookups import (
    RELAY,
    language_param,
    lock_state,
    send_with_choices,
    topic_param,
)
from flows.conversation.offers import make_offers, withdraw_offers
from flows.conversation.requests import waiting_buttons
from flows.events import Button, EventKind, InboundEvent, OutboundMessage
from i18n import N_
from models import FlowState, HelpRequest, Offer, OfferStatus, Participant, RequestStatus

NAME = "matching"

# Still nobody, said truly: who is missing (anyone on duty, her language, her topic) or all busy.
STILL_LOOKING_TEXTS = {
    "night": N_("match.still_looking_night"),
    "language": N_("match.still_looking_language"),
    "topic": N_("match.still_looking_topic"),
    "busy": N_("match.still_looking"),
}


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
        text_id = STILL_LOOKING_TEXTS[await why_unmatched(ctx, request)]
        message = OutboundMessage(text_id, {}, tuple(waiting_buttons(request)))
        await send_with_choices(ctx, seeker, message)
    await make_offers(ctx, request)


async def request_expired(ctx: FlowContext, request_id: int) -> None:
    """A request nobody could take in time ends kindly; her note and waiting words go."""
    request = await ctx.session.get(HelpRequest, request_id)
    if request is None or request.status != RequestStatus.WAITING:
        return
    seeker_state = await lock_state(ctx, FlowState, request.seeker_id)
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
    if seeker_state is not None and seeker_state.flow == RELAY:
        seeker_state.data = {}
        if "intake" in ctx.flows:
            seeker_state.flow, seeker_state.step = "intake", "menu"
