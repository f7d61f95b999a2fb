"""Hand-over: she asks for another supporter, or a supporter passes her on through a coordinator.

Either way this conversation ends neutrally and a new request waits, with the supporter who
was there excluded; passed on by a supporter, she waits first in line.
"""

from flows.alerts import alert_coordinators
from flows.context import FlowContext
from flows.conversation.lifecycle import end_match
from flows.conversation.lookups import (
    RELAY,
    RelayStep,
    is_seeker,
    my_open_match,
    other_side,
    seeker_match,
    supporter_matches,
)
from flows.conversation.offers import make_offers
from flows.conversation.requests import create_request, tell_where_she_stands
from flows.conversation.routing import route
from flows.events import Button, OutboundMessage
from models import HelpRequest, Match, Participant


async def handover(ctx: FlowContext, match_id: int | None) -> None:
    me = ctx.participant
    if is_seeker(me):
        match = await seeker_match(ctx, me.id)
        if match is None or (match_id is not None and match.id != match_id):
            return ctx.reply("relay.nothing_to_hand_over")
        await to_another_supporter(ctx, match, urgent=False)
        return
    match = await my_open_match(ctx, match_id) if match_id else None
    if match is None:
        matches = await supporter_matches(ctx, me.id)
        if not matches:
            return ctx.reply("relay.nothing_to_hand_over")
        match = await route(ctx, None, matches)
        if match is None:
            buttons = [
                Button(
                    "relay.handover_which_button",
                    f"relay:handover:{m.id}",
                    {"alias": (await other_side(ctx, m, me)).alias},
                )  # fmt: skip
                for m in matches
            ]
            return ctx.reply("relay.handover_which", buttons=buttons)
    await _to_coordinator(ctx, match)


async def to_another_supporter(
    ctx: FlowContext, match: Match, *, urgent: bool, announce: bool = True
) -> None:
    """She asked for another supporter: this match ends neutrally, a new request waits."""
    seeker = await ctx.session.get(Participant, match.seeker_id)
    old = await ctx.session.get(HelpRequest, match.request_id)
    assert seeker is not None and old is not None
    topic, language, note = old.topic, old.language, old.note
    await end_match(ctx, match, by=ctx.participant, reason="handover")
    request = await create_request(
        ctx, seeker, topic=topic, language=language, note=note,
        urgent=urgent or old.urgent, exclude=[match.supporter_id],
    )  # fmt: skip
    offered = await make_offers(ctx, request)
    if announce:
        ctx.send(seeker, OutboundMessage("relay.finding_another"))
    await tell_where_she_stands(ctx, seeker, request, offered)
    if ctx.participant.id == seeker.id:
        ctx.go(RELAY, RelayStep.WAITING, request_id=request.id)


async def _to_coordinator(ctx: FlowContext, match: Match) -> None:
    """The supporter hands over: a coordinator is alerted, the seeker is told kindly and
    waits first in line for the next supporter."""
    await alert_coordinators(ctx, "relay.alert_handover", ref=match.request_id)
    seeker = await ctx.session.get(Participant, match.seeker_id)
    assert seeker is not None
    ctx.send(seeker, OutboundMessage("relay.handover_to_coordinator_seeker"))
    await to_another_supporter(ctx, match, urgent=True, announce=False)
    ctx.reply("relay.handover_done")
