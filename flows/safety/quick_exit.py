"""Quick exit: make this chat look harmless on her phone now, and keep it so until she is back.

On Telegram the bot deletes the messages of the last 48 hours it may delete in a private chat (its
own and hers) and leaves one innocuous line; the channel does the deleting from a single outbox
row of kind "delete". Where messages cannot be deleted by a bot (WhatsApp, console) she is told
how to delete the chat herself. On every channel she is then held: nothing new reaches her chat
(relayed words, check-ins, campaigns) until she writes again, and what came meanwhile is offered,
never pushed. The other side of her conversation is told neutrally that she had to step away.

```mermaid
stateDiagram-v2
    [*] --> held: /exit or the quick-exit button (chat cleared or how-to sent, others told)
    held --> held: anything for her (kept back, not shown)
    held --> back: she writes again (anything at all)
    back --> [*]: nothing was kept
    back --> offered: kept messages ("show them?")
    offered --> [*]: show them (sent in order)
    offered --> offered: not now (they keep waiting; the offer stays)
```
"""

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from flows.context import FlowContext
from flows.conversation.lookups import is_seeker, other_side, seeker_match, supporter_matches
from flows.events import TEXT_ONLY_CHANNELS, Button, EventKind, InboundEvent, OutboundMessage
from i18n import N_, translate
from models import OutboxMessage, OutboxStatus, ProcessedInbound
from models.stats import increment

# Built as f"exit.howto_{channel}" for channels where the bot cannot delete.
HOWTO_TEXTS = (N_("exit.howto_whatsapp"),)

NAME = "quick_exit"
DELETABLE_FOR = timedelta(hours=48)  # what the Bot API lets a bot delete in a private chat
CHANNELS_THAT_DELETE = frozenset({"telegram"})
# Edits of messages that are gone with the chat: never worth offering again.
NOT_OFFERED = ("edit", "markup", "delete")
SHOW, LATER = "exit:show", "exit:later"
OFFER_BUTTONS = (Button("exit.show_button", SHOW), Button("exit.later_button", LATER))
OFFERS = ("exit.held_offer", "exit.held_later")
# Built as f"exit.howto_{channel}" for channels where the bot cannot delete.
HOWTO_TEXTS = (N_("exit.howto_whatsapp"),)


class QuickExitFlow:
    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if event.choice == SHOW:
            return await show_held(ctx)
        if event.choice == LATER:
            return ctx.reply("exit.held_later", in_place=True, buttons=OFFER_BUTTONS[:1])
        if not wants_exit(event):  # nothing else is ever routed here; be safe anyway
            return ctx.reply("exit.howto")
        await quick_exit(ctx, event)


def wants_exit(event: InboundEvent) -> bool:
    if event.kind == EventKind.COMMAND:
        return event.command == "exit"
    return (event.choice or "").startswith("exit:") and event.choice not in (SHOW, LATER)


async def quick_exit(ctx: FlowContext, event: InboundEvent | None = None) -> None:
    me = ctx.participant
    await increment(ctx.session, ctx.now.date(), "quick_exits")
    if me.held_since is None:
        await _tell_the_other_side(ctx)
    me.held_since = ctx.now
    # Anything still waiting to reach her would bring the conversation back onto the screen:
    # it is kept back, with its words, until she asks for it.
    await ctx.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.participant_id == me.id,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.HELD, lease_until=None)
    )
    if me.channel not in CHANNELS_THAT_DELETE:
        text_id = f"exit.howto_{me.channel}" if me.channel == "whatsapp" else "exit.howto"
        return ctx.send(me, OutboundMessage(text_id, kind="exit"))
    since = ctx.now - DELETABLE_FOR
    ids = await message_ids_to_delete(ctx, since)
    if event is not None and event.chat_message_id:
        ids.add(str(event.chat_message_id))
    ordered = sorted(ids, key=lambda value: (len(value), value))
    ctx.send(me, OutboundMessage("exit.done", {"_delete": ordered}, kind="delete"))


async def _tell_the_other_side(ctx: FlowContext) -> None:
    """Her supporter (or the women a supporter talks with) learns only that she stepped away."""
    me = ctx.participant
    if is_seeker(me):
        match = await seeker_match(ctx, me.id)
        matches = [match] if match is not None else []
    else:
        matches = await supporter_matches(ctx, me.id)
    for match in matches:
        other = await other_side(ctx, match, me)
        ctx.send(other, OutboundMessage("exit.partner_stepped_away", {"alias": me.alias}),
                 match_id=match.id)  # fmt: skip


async def back_after_exit(ctx: FlowContext, event: InboundEvent) -> bool:
    """A guard: the first thing she sends after a quick exit ends the hold; what was kept for
    her is offered, never shown unasked. Her message itself goes on as usual."""
    me = ctx.participant
    if me.held_since is None or event.kind in (EventKind.BLOCKED, EventKind.UNBLOCKED):
        return False
    if wants_exit(event):
        return False  # leaving again: still held
    me.held_since = None
    await ctx.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.participant_id == me.id,
            OutboxMessage.status == OutboxStatus.HELD,
            OutboxMessage.kind.in_(NOT_OFFERED),
        )
        .values(status=OutboxStatus.DROPPED, params=None, media=None, error="quick exit")
    )
    kept = await held_count(ctx)
    if kept:  # asked after her message is answered, so it is the last thing she sees
        ctx.afterwards.append(OutboundMessage("exit.held_offer", {"n": kept}, OFFER_BUTTONS))
    return False


async def typed_answer(ctx: FlowContext, event: InboundEvent) -> bool:
    """A guard for channels without buttons: "1" or "Show them" typed right after the offer
    answers it, even inside a conversation (where typed words are otherwise hers to send)."""
    if event.channel not in TEXT_ONLY_CHANNELS or event.kind != EventKind.TEXT:
        return False
    newest = (
        await ctx.session.execute(
            select(OutboxMessage.text_id)
            .where(OutboxMessage.participant_id == ctx.participant.id)
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if newest not in OFFERS:
        return False
    typed = event.text.strip().rstrip(".)").casefold()
    offered = OFFER_BUTTONS if newest == "exit.held_offer" else OFFER_BUTTONS[:1]
    for number, button in enumerate(offered, start=1):
        if typed in (str(number), translate(ctx.language, button.text_id).casefold()):
            await QuickExitFlow().handle(ctx, replace(event, kind=EventKind.CHOICE,
                                                      choice=button.choice))  # fmt: skip
            return True
    return False


async def held_count(ctx: FlowContext) -> int:
    query = select(func.count()).where(
        OutboxMessage.participant_id == ctx.participant.id,
        OutboxMessage.status == OutboxStatus.HELD,
    )
    return int((await ctx.session.execute(query)).scalar_one())


async def show_held(ctx: FlowContext) -> None:
    """She asked: what was kept goes out now, in the order it came."""
    me = ctx.participant
    if me.held_since is not None or not await held_count(ctx):
        return ctx.reply("exit.held_none")
    await ctx.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.participant_id == me.id,
            OutboxMessage.status == OutboxStatus.HELD,
        )
        .values(status=OutboxStatus.PENDING, available_at=ctx.now, lease_until=None)
    )


async def message_ids_to_delete(ctx: FlowContext, since: datetime) -> set[str]:
    """The chat message ids of the last 48 hours: the bot's (sent to her) and hers."""
    me = ctx.participant
    ours = await ctx.session.execute(
        select(OutboxMessage.channel_message_id).where(
            OutboxMessage.participant_id == me.id,
            OutboxMessage.channel_message_id.is_not(None),
            OutboxMessage.sent_at >= since,
        )
    )
    hers = await ctx.session.execute(
        select(ProcessedInbound.chat_message_id).where(
            ProcessedInbound.participant_id == me.id,
            ProcessedInbound.chat_message_id.is_not(None),
            ProcessedInbound.received_at >= since,
        )
    )
    return {str(value) for value in [*ours.scalars(), *hers.scalars()] if value}
