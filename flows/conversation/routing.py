"""Routing a supporter's words: which conversation a message belongs to, or held until she says.

With one conversation open it goes there; with several, a reply to a copy, an edit of a relayed
message or the conversation she picked decides, and otherwise her words wait until she chooses.
"""

from sqlalchemy import select

from flows.context import FlowContext
from flows.conversation.delivery import MAX_KEPT, deliver, kept_item, relay_message
from flows.conversation.lifecycle import go_home
from flows.conversation.lookups import (
    RELAY,
    RelayStep,
    is_seeker,
    my_open_match,
    other_side,
    writer_matches,
)
from flows.events import Button, EventKind, InboundEvent
from models import Match, MatchStatus, OutboxMessage


async def show_selector(ctx: FlowContext, matches: list[Match], text_id: str) -> None:
    me = ctx.participant
    buttons = [
        Button(
            "relay.switch_button", f"switch:{m.id}", {"alias": (await other_side(ctx, m, me)).alias}
        )  # fmt: skip
        for m in matches
    ]
    ctx.reply(text_id, buttons=buttons)


async def switch_menu(ctx: FlowContext) -> None:
    me = ctx.participant
    matches = await writer_matches(ctx, me.id) if not is_seeker(me) else []
    if not matches:
        return ctx.reply("relay.nothing_to_switch")
    if ctx.state.flow != RELAY:
        ctx.go(RELAY, RelayStep.CONNECTED)
    await show_selector(ctx, matches, "relay.switch_which")


async def pick(ctx: FlowContext, match_id: int) -> None:
    """She chose whom she writes to: that becomes her active conversation, held words go."""
    me = ctx.participant
    match = await my_open_match(ctx, match_id)
    data = dict(ctx.state.data or {}) if ctx.state.flow == RELAY else {}
    if match is None or me.id not in (match.supporter_id, match.joined_by):
        ctx.reply("relay.already_ended")
        others = await writer_matches(ctx, me.id)
        if data.get("held") and others:
            return await show_selector(ctx, others, "relay.which_conversation")
        data.pop("held", None)  # nobody left to receive them: her words are not kept
        ctx.state.data = data
        return None
    held = data.pop("held", [])
    data.pop("choices", None)
    data["active_match"] = match.id
    ctx.go(RELAY, RelayStep.CONNECTED, **data)
    seeker = await other_side(ctx, match, me)
    if match.status == MatchStatus.PAUSED and held:
        return ctx.reply("relay.paused")
    for item in held:
        await deliver(ctx, match, me, seeker, item)
    ctx.reply("relay.sent_to" if held else "relay.now_writing_to", alias=seeker.alias)


async def route(ctx: FlowContext, event: InboundEvent | None, matches: list[Match]) -> Match | None:
    """Which conversation a supporter's message belongs to, or None when it is not certain."""
    by_id = {m.id: m for m in matches}
    if event is not None and event.reply_to:
        copy = (
            await ctx.session.execute(
                select(OutboxMessage.match_id)
                .where(
                    OutboxMessage.participant_id == ctx.participant.id,
                    OutboxMessage.channel_message_id == event.reply_to,
                    OutboxMessage.match_id.is_not(None),
                )
                .order_by(OutboxMessage.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if copy is not None:
            return by_id.get(copy) or await ctx.session.get(Match, copy)
    if event is not None and event.kind == EventKind.EDIT and event.edited_message_id:
        original = (
            await ctx.session.execute(
                select(OutboxMessage.match_id)
                .where(
                    OutboxMessage.match_id.in_(list(by_id)),
                    OutboxMessage.participant_id != ctx.participant.id,
                    OutboxMessage.source_message_id == event.edited_message_id,
                )
                .order_by(OutboxMessage.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if original is not None:
            return by_id.get(original)
    active = (ctx.state.data or {}).get("active_match") if ctx.state.flow == RELAY else None
    if active in by_id:
        return by_id[active]
    if event is not None and isinstance(active, int):
        # The woman she was writing to has ended it (or a coordinator took it over): her words
        # must not fall to another.
        return await ctx.session.get(Match, active)  # None when she was erased: ask whom
    if len(matches) == 1:
        return matches[0]
    return None


async def from_supporter(ctx: FlowContext, event: InboundEvent) -> None:
    me = ctx.participant
    matches = await writer_matches(ctx, me.id)
    if not matches:
        ctx.reply("relay.no_open_conversations")
        return await go_home(ctx)
    if ctx.state.flow != RELAY:
        ctx.go(RELAY, RelayStep.CONNECTED)
    match = await route(ctx, event, matches)
    if match is not None and match.id not in {m.id for m in matches}:
        # Ended, or no longer hers (taken over by a coordinator): never relayed from here.
        if ctx.state.data.get("active_match") == match.id:
            ctx.state.data = {**ctx.state.data, "active_match": None}  # told once
        seeker = await other_side(ctx, match, me)
        return ctx.reply("relay.reply_to_ended", alias=seeker.alias)
    if match is not None:
        return await relay_message(ctx, match, event)
    if event.kind == EventKind.UNSUPPORTED:
        return ctx.reply("relay.unsupported")
    if event.kind == EventKind.EDIT:
        return ctx.reply("relay.edit_not_sent")
    # Several conversations and no way to be sure: hold it and ask.
    data = dict(ctx.state.data or {})
    held = list(data.get("held", []))
    if len(held) >= MAX_KEPT:
        return ctx.reply("relay.held_full")
    held.append(kept_item(event))
    data["held"] = held
    ctx.go(RELAY, RelayStep.HELD, **data)
    await show_selector(ctx, matches, "relay.which_conversation")
