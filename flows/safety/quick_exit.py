"""Quick exit: make this chat look harmless on her phone, now.

On Telegram the bot deletes the messages of the last 48 hours it may delete in a private chat (its
own and hers) and leaves one innocuous line; the channel does the deleting from a single outbox
row of kind "delete". Where messages cannot be deleted by a bot (WhatsApp, console) she is told
how to delete the chat herself. Her place in any conversation is kept.
"""

from datetime import datetime, timedelta

from sqlalchemy import select, update

from flows.context import FlowContext
from flows.events import EventKind, InboundEvent, OutboundMessage
from i18n import N_
from models import OutboxMessage, OutboxStatus, ProcessedInbound
from models.stats import increment

# Built as f"exit.howto_{channel}" for channels where the bot cannot delete.
HOWTO_TEXTS = (N_("exit.howto_whatsapp"),)

NAME = "quick_exit"
DELETABLE_FOR = timedelta(hours=48)  # what the Bot API lets a bot delete in a private chat
CHANNELS_THAT_DELETE = frozenset({"telegram"})


class QuickExitFlow:
    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        wanted = (event.kind == EventKind.COMMAND and event.command == "exit") or (
            (event.choice or "").startswith("exit:")
        )
        if not wanted:  # nothing else is ever routed here; be safe anyway
            return ctx.reply("exit.howto")
        await quick_exit(ctx, event)


async def quick_exit(ctx: FlowContext, event: InboundEvent | None = None) -> None:
    me = ctx.participant
    await increment(ctx.session, ctx.now.date(), "quick_exits")
    if me.channel not in CHANNELS_THAT_DELETE:
        return ctx.reply(f"exit.howto_{me.channel}" if me.channel == "whatsapp" else "exit.howto")
    since = ctx.now - DELETABLE_FOR
    ids = await message_ids_to_delete(ctx, since)
    if event is not None and event.chat_message_id:
        ids.add(str(event.chat_message_id))
    # Anything still waiting to reach her would bring the conversation back onto the screen.
    await ctx.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.participant_id == me.id,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.DROPPED, params=None, media=None, error="quick exit")
    )
    ordered = sorted(ids, key=lambda value: (len(value), value))
    ctx.send(me, OutboundMessage("exit.done", {"_delete": ordered}, kind="delete"))


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
