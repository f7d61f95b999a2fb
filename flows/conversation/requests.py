"""Her help request: opened with its alert and expiry, offered, and honest words while she waits."""

from collections.abc import Iterable
from datetime import timedelta

from flows.context import FlowContext
from flows.conversation.delivery import masking
from flows.conversation.eligibility import why_unmatched
from flows.conversation.lookups import RELAY, RelayStep, open_request_of, send_with_choices
from flows.conversation.masking import mask_contacts
from flows.conversation.offers import make_offers, withdraw_offers
from flows.conversation.waiting import schedule_updates, waiting_buttons
from flows.events import OutboundMessage
from i18n import N_
from models import HelpRequest, Offer, OfferStatus, Participant, RequestStatus

# Why nobody was offered her request, said truly (night, her language, her topic, all busy).
WAITING_TEXTS = {
    "night": N_("match.waiting_night"),
    "language": N_("match.waiting_language"),
    "topic": N_("match.waiting_topic"),
    "busy": N_("match.waiting_busy"),
}


def _alert_minutes(ctx: FlowContext) -> float:
    return float(ctx.config.coordinator_alert_after_minutes)


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
    """A waiting request with its alert and expiry scheduled; `exclude` are never offered it.

    Her sentence is stored masked, as the supporter will see it: a number she typed never
    reaches the database.
    """
    if note and masking(ctx):
        note = mask_contacts(note).text
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
    ctx.schedule("unmatched_alert", ctx.now + timedelta(minutes=_alert_minutes(ctx)), request.id)
    expiry = timedelta(hours=float(ctx.config.request_expiry_hours))
    ctx.schedule("request_expiry", ctx.now + expiry, request.id)
    schedule_updates(ctx, request)
    await ctx.session.flush()
    return request


async def tell_where_she_stands(
    ctx: FlowContext, seeker: Participant, request: HelpRequest, offered: int
) -> None:
    """Honest words: someone will answer, roughly when, and what she can do meanwhile."""
    minutes = round(_alert_minutes(ctx))
    if offered:
        text_id = "match.waiting"
    else:
        text_id = WAITING_TEXTS[await why_unmatched(ctx, request)]
    await send_with_choices(
        ctx, seeker, OutboundMessage(text_id, {"minutes": minutes}, tuple(waiting_buttons(request)))
    )


async def submit_request(
    ctx: FlowContext, *, topic: str, note: str | None, urgent: bool
) -> HelpRequest:
    """Open her request (intake's last step), offer it, and tell her where she stands."""
    seeker = ctx.participant
    existing = await open_request_of(ctx, seeker.id)
    if existing is not None:
        ctx.reply("match.already_open")
        await ctx.resume(RELAY)
        return existing
    request = await create_request(
        ctx, seeker, topic=topic, language=ctx.language, note=note, urgent=urgent
    )
    offered = await make_offers(ctx, request)
    await tell_where_she_stands(ctx, seeker, request, offered)
    ctx.go(RELAY, RelayStep.WAITING, request_id=request.id)
    return request


async def cancel_request(ctx: FlowContext, request: HelpRequest) -> None:
    """She started over: her words go, supporters still holding an offer see it withdrawn."""
    if request.status == RequestStatus.WAITING:
        request.status = RequestStatus.CANCELLED
    request.note = None
    request.ended_at = request.ended_at or ctx.now
    await withdraw_offers(ctx, request, "match.offer_withdrawn")
