"""Delivery: one message from one woman to the other, as a copy under her alias, contacts masked.

Telegram to Telegram media is copied as it is (no "forwarded from"); across channels what can be
re-sent goes by reference, and what cannot is named so neither side is left guessing.
"""

from typing import Any

from sqlalchemy import select

from flows.aliases import new_alias
from flows.context import FlowContext
from flows.conversation.lookups import other_side, others_in, supporter_matches
from flows.conversation.masking import Masked, mask_contacts
from flows.events import EventKind, InboundEvent, MediaRef, OutboundMessage, msgid, msgids
from i18n import N_
from models import CoordinatorTalk, Match, MatchStatus, OutboxMessage, Participant

# What could not cross, named for her; built as f"relay.kind_{kind}".
MEDIA_KIND_TEXTS = (
    N_("relay.kind_voice"),
    N_("relay.kind_audio"),
    N_("relay.kind_photo"),
    N_("relay.kind_video"),
    N_("relay.kind_video_note"),
    N_("relay.kind_animation"),
    N_("relay.kind_document"),
    N_("relay.kind_sticker"),
    N_("relay.kind_location"),
    N_("relay.kind_None"),
)

MAX_KEPT = 10  # messages she may leave while waiting, or a supporter may have held
TELEGRAM = "telegram"
# Media that channels can re-send to another app: voice notes, audio and pictures.
MEDIA_THAT_CROSSES = frozenset({"voice", "audio", "photo"})
# Telegram to Telegram: copied with her alias as the caption (one message), or, for what takes
# no caption, copied after a line with her alias. A document goes by reference, so it can be
# sent under a neutral file name (its own name may say who she is).
COPIED_WITH_CAPTION = frozenset({"voice", "audio", "photo", "video", "animation"})
COPIED_AS_IS = frozenset({"sticker", "video_note"})
CAPTION_TEXTS = ("relay.media_caption", "relay.media_from")


# What was hidden, named in the notice; built as f"mask.{kind}".
MASK_KIND_TEXTS = (
    N_("mask.phone"), N_("mask.email"), N_("mask.link"), N_("mask.username"), N_("mask.address"),
)  # fmt: skip


def masked_notice(masked: Masked) -> OutboundMessage:
    """The sender is told exactly what was hidden, so she knows what did not reach the other."""
    what = msgids(*(f"mask.{kind}" for kind in masked.kinds))
    return OutboundMessage("relay.masked_notice", {"what": what})


def masking(ctx: FlowContext) -> bool:
    return bool(getattr(ctx.config, "mask_contact_details", True))


async def distinct_alias(
    ctx: FlowContext, supporter: Participant, seeker: Participant, match: Match
) -> None:
    """She is a new name in every conversation, so no supporter recognises her from an earlier
    one (unless both asked to talk again); two women a supporter talks to never share one, or
    her words could go to the wrong woman."""
    taken = {
        (await other_side(ctx, m, supporter)).alias
        for m in await supporter_matches(ctx, supporter.id)
        if m.id != match.id
    }
    earlier = (
        await ctx.session.execute(
            select(Match.supporter_id, Match.seeker_again)
            .where(Match.seeker_id == seeker.id, Match.id != match.id)
            .order_by(Match.id.desc())
            .limit(1)
        )
    ).first()
    # Her first name was drawn when she arrived; each later conversation draws a new one,
    # except with the supporter she asked to talk to again, who knows her by it.
    again = earlier is not None and earlier[0] == supporter.id and bool(earlier[1])
    if earlier is not None and not again:
        taken.add(seeker.alias)
    while seeker.alias in taken:
        seeker.alias = new_alias()


def kept_item(event: InboundEvent) -> dict[str, Any]:
    """What is needed to relay a message later: her words, her chat's message id, media ref."""
    media = None
    if event.media is not None:
        media = {"kind": event.media.kind, "ref": event.media.ref,
                 "mime_type": event.media.mime_type, "size": event.media.size}  # fmt: skip
    item = {"text": event.text or "", "chat_message_id": event.chat_message_id, "media": media}
    if event.extra.get("hidden_links"):
        item["hidden_links"] = True
    return item


async def deliver(
    ctx: FlowContext,
    match: Match | CoordinatorTalk,
    sender: Participant,
    recipient: Participant,
    item: dict[str, Any],
    *,
    reply_to: str | None = None,
    notify_sender: bool = True,
) -> None:
    """Queue one message to the other side: text re-written with her alias, media copied.

    A coordinator's talk with a supporter goes the same way; only a conversation's copies carry
    its match, so a reply to a copy finds the woman it came from."""
    match.last_activity_at = ctx.now
    source = item.get("chat_message_id")
    extra = {"match_id": match.id if isinstance(match, Match) else None,
             "source_message_id": source}  # fmt: skip
    text = item.get("text") or ""
    masked = mask_contacts(text) if masking(ctx) and text else None
    if masked is not None and masked.changed:
        text = masked.text
    same_telegram = sender.channel == recipient.channel == TELEGRAM
    threading = {"_reply_to": reply_to} if reply_to and sender.channel == recipient.channel else {}
    media = item.get("media")
    hidden = bool(item.get("hidden_links"))
    if media is None:
        ctx.send(
            recipient,
            OutboundMessage(
                "relay.text", {"alias": sender.alias, "text": text, **threading}, kind="relay"
            ),  # fmt: skip
            **extra,
        )
    elif same_telegram and source and media.get("kind") in COPIED_WITH_CAPTION and not hidden:
        # One message: hers copied (no "forwarded from", no name), her alias and her (masked)
        # words as its caption, so the copy's own caption, with any contact, never goes.
        copy = {"_copy_from": sender.id, "_copy_message_id": source, "_caption": True}
        ctx.send(recipient, OutboundMessage(
            "relay.media_caption" if text else "relay.media_from",
            {**copy, "alias": sender.alias, "caption": text, **threading}, kind="relay",
        ), **extra)  # fmt: skip
    elif (
        same_telegram
        and source
        and media.get("kind") in COPIED_AS_IS
        and not (masked and masked.changed or hidden)
    ):
        # Her alias first, then her message copied as it is (no "forwarded from", no name).
        ctx.send(recipient, OutboundMessage("relay.media_from", {"alias": sender.alias},
                                            kind="relay"), **extra)  # fmt: skip
        copy = {"_copy_from": sender.id, "_copy_message_id": source, "alias": sender.alias}
        ctx.send(recipient, OutboundMessage("relay.media_copy", {**copy, **threading},
                                            kind="relay"), **extra)  # fmt: skip
    elif same_telegram or media.get("kind") in MEDIA_THAT_CROSSES:
        # By reference, with her (masked) caption: on Telegram when the caption held contact
        # details (a copy would carry the original), across channels for what can be re-sent
        # (the recipient's channel fetches and re-uploads it, or says it cannot be shown).
        ctx.send(
            recipient,
            OutboundMessage(
                "relay.media_caption",
                {"alias": sender.alias, "caption": text},
                media=MediaRef(**media),
                kind="relay",
            ),  # fmt: skip
            **extra,
        )
    else:
        what = msgid(f"relay.kind_{media.get('kind')}")
        ctx.send(recipient, OutboundMessage("relay.media_cannot_cross",
                                            {"alias": sender.alias, "what": what},
                                            kind="relay"), **extra)  # fmt: skip
        if text:
            ctx.send(recipient, OutboundMessage("relay.text", {"alias": sender.alias, "text": text},
                                                kind="relay"), **extra)  # fmt: skip
        if notify_sender:
            ctx.send(sender, OutboundMessage("relay.media_not_delivered", {"what": what}))
    if masked is not None and masked.changed and notify_sender:
        ctx.send(sender, masked_notice(masked))


async def relay_edit(
    ctx: FlowContext,
    match: Match,
    sender: Participant,
    recipient: Participant,
    event: InboundEvent,
    *,
    notify_sender: bool = True,
) -> None:
    """An edit becomes an edit of the copy where the channel allows, else a new "(edited)" line."""
    match.last_activity_at = ctx.now
    copy = (
        await ctx.session.execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.match_id == match.id,
                OutboxMessage.participant_id == recipient.id,
                OutboxMessage.source_message_id == event.edited_message_id,
            )
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    text = event.text or ""
    masked = mask_contacts(text) if masking(ctx) and text else None
    if masked is not None:
        text = masked.text
    params = {"alias": sender.alias, "text": text}
    editable = (
        copy is not None
        and copy.channel_message_id
        and (sender.channel == recipient.channel == TELEGRAM)
    )
    if editable and copy is not None and copy.text_id == "relay.text":
        params["_edit_of"] = copy.channel_message_id
        ctx.send(recipient, OutboundMessage("relay.text", params, kind="edit"), match_id=match.id,
                 source_message_id=event.edited_message_id)  # fmt: skip
    elif editable and copy is not None and copy.text_id in CAPTION_TEXTS:
        # Her edited caption edits the caption of the copy, not a new "(edited)" line.
        caption = {"alias": sender.alias, "caption": text, "_edit_of": copy.channel_message_id,
                   "_caption": True}  # fmt: skip
        ctx.send(recipient, OutboundMessage("relay.media_caption", caption, kind="edit"),
                 match_id=match.id, source_message_id=event.edited_message_id)  # fmt: skip
    else:
        ctx.send(recipient, OutboundMessage("relay.edited", params, kind="relay"),
                 match_id=match.id, source_message_id=event.edited_message_id)  # fmt: skip
    if masked is not None and masked.changed and notify_sender:
        ctx.send(sender, masked_notice(masked))


async def relay_message(ctx: FlowContext, match: Match, event: InboundEvent) -> None:
    """What she writes in an open conversation goes to the other side (a paused one holds)."""
    me = ctx.participant
    if "choices" in (ctx.state.data or {}):
        # She is writing to the other woman now: a later "1" is her words, not a choice.
        ctx.state.data = {k: v for k, v in ctx.state.data.items() if k != "choices"}
    if match.status == MatchStatus.PAUSED:
        return ctx.reply("relay.paused")
    if event.kind == EventKind.UNSUPPORTED:
        return ctx.reply("relay.unsupported")
    # With a coordinator joined, everyone reads it; a reply threads only between two, since
    # the original it answers lies in one chat only.
    readers = await others_in(ctx, match, me)
    reply_source = await _reply_source(ctx, event, match) if match.joined_by is None else None
    for number, reader in enumerate(readers):
        if event.kind == EventKind.EDIT:
            await relay_edit(ctx, match, me, reader, event, notify_sender=number == 0)
        else:
            await deliver(ctx, match, me, reader, kept_item(event), reply_to=reply_source,
                          notify_sender=number == 0)  # fmt: skip


async def _reply_source(ctx: FlowContext, event: InboundEvent, match: Match) -> str | None:
    """When she replied to a copy, the other side's original, so the reply threads there."""
    if not event.reply_to:
        return None
    return (
        await ctx.session.execute(
            select(OutboxMessage.source_message_id)
            .where(
                OutboxMessage.participant_id == ctx.participant.id,
                OutboxMessage.channel_message_id == event.reply_to,
                # A copy from an earlier conversation names a message in another chat.
                OutboxMessage.match_id == match.id,
            )
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
