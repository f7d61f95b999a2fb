"""Relay: two women talk through the bot, each knowing the other only by an alias.

Messages go both ways as copies, never forwards; contact details are masked; a supporter with
several conversations always knows whom she writes to, and a message that could reach the wrong
woman is held until she says which. Where each side stands is read from the database (her
request, her matches), so an end or a pause by the other side is seen at once.

```mermaid
stateDiagram-v2
    state "seeker" as seeker {
        [*] --> waiting: open_request
        waiting --> waiting: she writes (kept for her supporter)
        waiting --> connected: a supporter accepts (introductions, kept words delivered)
        waiting --> menu: /end or cancel (request cancelled) / request expires
        connected --> connected: she writes (copied to her supporter, contacts masked)
        connected --> connected: paused by a report (nothing relayed, she is told)
        connected --> feedback: /end by her, or idle close
        connected --> waiting: /handover (another supporter; this one excluded)
        connected --> menu: ended by the supporter (next message), blocked, erased
    }
    state "supporter" as supporter {
        [*] --> connected: she accepts an offer
        connected --> connected: reply-to / active conversation / only one → relayed
        connected --> held: several open, no reply, none chosen
        held --> connected: she picks whom (held messages sent)
        connected --> connected: /switch picks the active conversation
        connected --> menu: her last conversation ends
    }
```
"""

import logging
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update

from flows.aliases import new_alias
from flows.commands import unknown_command
from flows.context import FlowContext
from flows.conversation.masking import mask_contacts
from flows.conversation.matching import (
    OPEN_MATCH,
    create_request,
    language_param,
    make_offers,
    send_with_choices,
    tell_where_she_stands,
    topic_param,
    waiting_buttons,
    waiting_request_of,
    withdraw_offers,
)
from flows.events import Button, EventKind, InboundEvent, MediaRef, OutboundMessage, msgid
from models import (
    FlowState,
    HelpRequest,
    Match,
    MatchStatus,
    OutboxMessage,
    Participant,
    RequestStatus,
    Role,
)

log = logging.getLogger(__name__)

NAME = "relay"
MAX_KEPT = 10  # messages she may leave while waiting, or a supporter may have held
TELEGRAM = "telegram"
# Media that channels can re-send to another app: voice notes, audio and pictures.
MEDIA_THAT_CROSSES = frozenset({"voice", "audio", "photo"})


class Step(StrEnum):
    WAITING = "waiting"
    CONNECTED = "connected"
    HELD = "held"


def _is_seeker(person: Participant) -> bool:
    return person.role == Role.SEEKER


def _masking(ctx: FlowContext) -> bool:
    return bool(getattr(ctx.config, "mask_contact_details", True))


# --- Facts --------------------------------------------------------------------------------------


async def seeker_match(ctx: FlowContext, seeker_id: int) -> Match | None:
    return (
        await ctx.session.execute(
            select(Match)
            .where(Match.seeker_id == seeker_id, Match.status.in_(OPEN_MATCH))
            .order_by(Match.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def supporter_matches(ctx: FlowContext, supporter_id: int) -> list[Match]:
    return list(
        (
            await ctx.session.execute(
                select(Match)
                .where(Match.supporter_id == supporter_id, Match.status.in_(OPEN_MATCH))
                .order_by(Match.id)
            )
        ).scalars()
    )


async def _other(ctx: FlowContext, match: Match, me: Participant) -> Participant:
    other_id = match.supporter_id if me.id == match.seeker_id else match.seeker_id
    other = await ctx.session.get(Participant, other_id)
    assert other is not None
    return other


# --- Starting -------------------------------------------------------------------------------------


async def start_conversation(
    ctx: FlowContext, match: Match, request: HelpRequest, seeker_state: FlowState | None
) -> None:
    """Introduce them, hand over what she left while waiting, and set both sides up."""
    supporter = ctx.participant
    seeker = await ctx.session.get(Participant, match.seeker_id)
    assert seeker is not None
    await _distinct_alias(ctx, supporter, seeker, match)
    language, topic = language_param(request.language), topic_param(request.topic)
    kept = list((seeker_state.data or {}).get("kept", [])) if seeker_state else []
    if seeker_state is None:
        seeker_state = FlowState(participant_id=seeker.id, flow=NAME, step="", data={})
        ctx.session.add(seeker_state)
    seeker_state.flow, seeker_state.step = NAME, Step.CONNECTED
    seeker_state.data = {"match_id": match.id}
    # Plain buttons: in a conversation a typed "2" is her words, never "end" on a text channel.
    ctx.send(
        seeker,
        OutboundMessage(
            "relay.intro_seeker",
            {"alias": supporter.alias, "language": language, "topic": topic},
            (
                Button("relay.button_other_supporter", f"relay:handover:{match.id}"),
                Button("relay.button_end", f"relay:end:{match.id}"),
            ),  # fmt: skip
        ),
    )
    params: dict[str, Any] = {"alias": seeker.alias, "language": language, "topic": topic}
    if request.note:
        params["note"] = mask_contacts(request.note).text if _masking(ctx) else request.note
    ctx.send(
        supporter,
        OutboundMessage(
            "relay.intro_supporter_note" if request.note else "relay.intro_supporter",
            params,
            kind="relay",
        ),
        match_id=match.id,
    )
    for item in kept:
        await deliver(ctx, match, seeker, supporter, item, notify_sender=False)
    # Her own side: with two or more conversations open nothing is sent until she chooses.
    open_now = await supporter_matches(ctx, supporter.id)
    data = dict(ctx.state.data or {}) if ctx.state.flow == NAME else {}
    data.pop("choices", None)
    data["active_match"] = match.id if len(open_now) == 1 else None
    ctx.go(NAME, Step.CONNECTED, **data)
    idle_after = timedelta(hours=float(ctx.config.idle_check_after_hours))
    ctx.schedule("idle_check", ctx.now + idle_after, match.id)


# --- Relaying -------------------------------------------------------------------------------------


async def _distinct_alias(
    ctx: FlowContext, supporter: Participant, seeker: Participant, match: Match
) -> None:
    """Aliases are drawn at random: two women a supporter talks to must never share one, or
    her words could go to the wrong woman. The newcomer gets a fresh one."""
    taken = {
        (await _other(ctx, m, supporter)).alias
        for m in await supporter_matches(ctx, supporter.id)
        if m.id != match.id
    }
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
    match: Match,
    sender: Participant,
    recipient: Participant,
    item: dict[str, Any],
    *,
    reply_to: str | None = None,
    notify_sender: bool = True,
) -> None:
    """Queue one message to the other side: text re-written with her alias, media copied."""
    match.last_activity_at = ctx.now
    source = item.get("chat_message_id")
    extra = {"match_id": match.id, "source_message_id": source}
    text = item.get("text") or ""
    masked = mask_contacts(text) if _masking(ctx) and text else None
    if masked is not None and masked.changed:
        text = masked.text
    same_telegram = sender.channel == recipient.channel == TELEGRAM
    threading = {"_reply_to": reply_to} if reply_to and sender.channel == recipient.channel else {}
    media = item.get("media")
    if media is None:
        ctx.send(
            recipient,
            OutboundMessage(
                "relay.text", {"alias": sender.alias, "text": text, **threading}, kind="relay"
            ),  # fmt: skip
            **extra,
        )
    elif same_telegram and source and not (masked and masked.changed or item.get("hidden_links")):
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
        ctx.send(sender, OutboundMessage("relay.masked_notice"))


async def relay_edit(
    ctx: FlowContext, match: Match, sender: Participant, recipient: Participant, event: InboundEvent
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
    masked = mask_contacts(text) if _masking(ctx) and text else None
    if masked is not None:
        text = masked.text
    params = {"alias": sender.alias, "text": text}
    if (
        copy is not None
        and copy.text_id == "relay.text"
        and copy.channel_message_id
        and sender.channel == recipient.channel == TELEGRAM
    ):
        params["_edit_of"] = copy.channel_message_id
        ctx.send(recipient, OutboundMessage("relay.text", params, kind="edit"), match_id=match.id,
                 source_message_id=event.edited_message_id)  # fmt: skip
    else:
        ctx.send(recipient, OutboundMessage("relay.edited", params, kind="relay"),
                 match_id=match.id, source_message_id=event.edited_message_id)  # fmt: skip
    if masked is not None and masked.changed:
        ctx.reply("relay.masked_notice")


# --- Ending ---------------------------------------------------------------------------------------


NEUTRAL_REASONS = ("blocked", "erased", "banned")


async def end_match(ctx: FlowContext, match: Match, *, by: Participant | None, reason: str) -> bool:
    """End a conversation for both sides; returns False when it had already ended.

    "ended" and "idle" say goodbye kindly and ask for feedback (the seeker) and how she is (the
    supporter); "handover" tells the supporter neutrally; "blocked", "erased" and "banned" give
    the other side a neutral notice only. Her note is deleted with the request.
    """
    done = await ctx.session.execute(
        update(Match)
        .where(Match.id == match.id, Match.status.in_(OPEN_MATCH))
        .values(
            status=MatchStatus.ENDED,
            ended_at=ctx.now,
            ended_by=(
                "system" if by is None else "seeker" if by.id == match.seeker_id else "supporter"
            ),
        )
    )
    if done.rowcount != 1:
        return False
    await ctx.session.refresh(match)
    await ctx.session.execute(
        update(HelpRequest)
        .where(HelpRequest.id == match.request_id)
        .values(status=RequestStatus.ENDED, ended_at=ctx.now, note=None)
    )
    seeker = await ctx.session.get(Participant, match.seeker_id)
    supporter = await ctx.session.get(Participant, match.supporter_id)
    assert seeker is not None and supporter is not None
    by_id = by.id if by is not None else None
    if reason in ("ended", "idle"):
        for person, other in ((seeker, supporter), (supporter, seeker)):
            if reason == "idle":
                text_id = "relay.closed_idle"
            else:
                text_id = "relay.you_ended" if person.id == by_id else "relay.other_ended"
            ctx.send(person, OutboundMessage(text_id, {"alias": other.alias}))
        await send_with_choices(ctx, seeker, _feedback_question(match))
        await send_with_choices(ctx, supporter, _checkin_question(match))
    elif reason == "handover":
        if by_id == seeker.id:
            ctx.send(supporter, OutboundMessage("relay.handed_over", {"alias": seeker.alias}))
    else:
        for person, other in ((seeker, supporter), (supporter, seeker)):
            if person.id != by_id:
                ctx.send(person, OutboundMessage("relay.ended_neutral", {"alias": other.alias}))
    await _after_end(ctx, match, reason)
    return True


def _feedback_question(match: Match) -> OutboundMessage:
    buttons = tuple(
        Button("feedback.score_label", f"feedback:score:{match.id}:{n}", {"n": str(n)})
        for n in range(1, 6)
    )
    return OutboundMessage("feedback.ask_score", {}, buttons)


def _checkin_question(match: Match) -> OutboundMessage:
    buttons = tuple(
        Button(f"feedback.checkin_{answer}", f"feedback:checkin:{match.id}:{answer}")
        for answer in ("ok", "heavy", "talk")
    )
    return OutboundMessage("feedback.checkin_ask", {}, buttons, kind="checkin")


async def _after_end(ctx: FlowContext, match: Match, reason: str) -> None:
    """Only the state of whoever is writing moves; the other side's is read from the database."""
    me = ctx.participant
    # The buttons just sent to her (feedback, check-in) stay typeable as numbers.
    choices = {"choices": ctx.state.data["choices"]} if "choices" in (ctx.state.data or {}) else {}
    if me.id == match.seeker_id and ctx.state.flow == NAME:
        if reason in ("ended", "idle"):
            ctx.go("feedback", "score", match_id=match.id, **choices)
    elif me.id == match.supporter_id and ctx.state.flow == NAME:
        data = dict(ctx.state.data or {})
        if data.get("active_match") == match.id:
            data["active_match"] = None
        if not await supporter_matches(ctx, me.id):
            data = dict(choices)
            if "intake" in ctx.flows:
                ctx.go("intake", "menu", **choices)
                return
        ctx.state.data = data


async def go_home(ctx: FlowContext) -> None:
    """Back to the menu (intake's), or nothing more to say when there is no menu."""
    if "intake" in ctx.flows:
        ctx.go("intake", "menu")
        await ctx.resume("intake")
    else:
        ctx.go(NAME, "")


# --- The flow -------------------------------------------------------------------------------------


class RelayFlow:
    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if event.kind in (EventKind.BLOCKED, EventKind.UNBLOCKED):
            return
        if event.kind == EventKind.COMMAND:
            return await self._command(ctx, event)
        if event.choice:
            return await self._choice(ctx, event.choice)
        if _is_seeker(ctx.participant):
            return await self._from_seeker(ctx, event)
        return await self._from_supporter(ctx, event)

    async def resume(self, ctx: FlowContext) -> None:
        """Say where she stands in her conversation (after the menu or the help paths)."""
        me = ctx.participant
        if _is_seeker(me):
            match = await seeker_match(ctx, me.id)
            if match is not None:
                ctx.go(NAME, Step.CONNECTED, match_id=match.id)
                other = await _other(ctx, match, me)
                return ctx.reply("relay.still_connected", alias=other.alias)
            request = await waiting_request_of(ctx, me.id)
            if request is not None:
                kept = (ctx.state.data or {}).get("kept", []) if ctx.state.flow == NAME else []
                ctx.go(NAME, Step.WAITING, request_id=request.id, kept=kept)
                return await tell_where_she_stands(ctx, me, request, offered=0)
            return await go_home(ctx)
        matches = await supporter_matches(ctx, me.id)
        if not matches:
            return await go_home(ctx)
        data = dict(ctx.state.data or {}) if ctx.state.flow == NAME else {}
        data.pop("choices", None)
        ctx.go(NAME, Step.CONNECTED, **data)
        await self._show_selector(ctx, matches, "relay.open_conversations")

    # Commands and buttons ----------------------------------------------------------------------

    async def _command(self, ctx: FlowContext, event: InboundEvent) -> None:
        match event.command:
            case "end":
                return await self._end(ctx, None)
            case "switch":
                return await self._switch_menu(ctx)
            case "handover":
                return await self._handover(ctx, None)
        await unknown_command(ctx)

    async def _choice(self, ctx: FlowContext, choice: str) -> None:
        parts = choice.split(":")
        target = int(parts[-1]) if parts[-1].isdigit() else None
        match parts[0], parts[1] if len(parts) > 1 else "":
            case "relay", "end":
                return await self._end(ctx, target)
            case "relay", "handover":
                return await self._handover(ctx, target)
            case "relay", "cancel":
                return await self._cancel(ctx, target)
            case "switch", _ if target is not None:
                return await self._pick(ctx, target)
            case "idle", "continue" if target is not None:
                return await self._keep_going(ctx, target)
            case "idle", "end" if target is not None:
                return await self._end(ctx, target)
        ctx.reply("relay.button_old")

    async def _my_open_match(self, ctx: FlowContext, match_id: int | None) -> Match | None:
        me = ctx.participant
        if match_id is None:
            return None
        match = await ctx.session.get(Match, match_id)
        if match is None or me.id not in (match.seeker_id, match.supporter_id):
            return None
        return match if match.status in OPEN_MATCH else None

    async def _end(self, ctx: FlowContext, match_id: int | None) -> None:
        me = ctx.participant
        if _is_seeker(me):
            match = await seeker_match(ctx, me.id)
            if match is not None and match_id is not None and match.id != match_id:
                return ctx.reply("relay.already_ended")  # a button of an earlier conversation
            if match is None:
                if match_id is not None:
                    return ctx.reply("relay.already_ended")
                return await self._cancel(ctx, None)
            await end_match(ctx, match, by=me, reason="ended")
            return
        if match_id is not None:
            match = await self._my_open_match(ctx, match_id)
            if match is None:
                return ctx.reply("relay.already_ended")
            await end_match(ctx, match, by=me, reason="ended")
            return
        matches = await supporter_matches(ctx, me.id)
        if not matches:
            return ctx.reply("relay.nothing_to_end")
        if len(matches) == 1:
            await end_match(ctx, matches[0], by=me, reason="ended")
            return
        # Never guess which conversation to end.
        buttons = [
            Button(
                "relay.end_which_button",
                f"relay:end:{m.id}",
                {"alias": (await _other(ctx, m, me)).alias},
            )  # fmt: skip
            for m in matches
        ]
        ctx.reply("relay.end_which", buttons=buttons)

    async def _cancel(self, ctx: FlowContext, request_id: int | None) -> None:
        me = ctx.participant
        request = await waiting_request_of(ctx, me.id)
        if request is not None and request_id is not None and request.id != request_id:
            return ctx.reply("relay.button_old")  # the button of an earlier request
        if request is None:
            ctx.reply("relay.nothing_to_end")
            return await go_home(ctx)
        done = await ctx.session.execute(
            update(HelpRequest)
            .where(HelpRequest.id == request.id, HelpRequest.status == RequestStatus.WAITING)
            .values(status=RequestStatus.CANCELLED, ended_at=ctx.now, note=None)
        )
        if done.rowcount == 1:
            await withdraw_offers(ctx, request, "match.offer_withdrawn")
        ctx.reply("relay.request_cancelled")
        await go_home(ctx)

    async def _handover(self, ctx: FlowContext, match_id: int | None) -> None:
        me = ctx.participant
        if _is_seeker(me):
            match = await seeker_match(ctx, me.id)
            if match is None or (match_id is not None and match.id != match_id):
                return ctx.reply("relay.nothing_to_hand_over")
            await self._to_another_supporter(ctx, match, urgent=False)
            return
        match = await self._my_open_match(ctx, match_id) if match_id else None
        if match is None:
            matches = await supporter_matches(ctx, me.id)
            if not matches:
                return ctx.reply("relay.nothing_to_hand_over")
            match = await self._route(ctx, None, matches)
            if match is None:
                buttons = [
                    Button(
                        "relay.handover_which_button",
                        f"relay:handover:{m.id}",
                        {"alias": (await _other(ctx, m, me)).alias},
                    )  # fmt: skip
                    for m in matches
                ]
                return ctx.reply("relay.handover_which", buttons=buttons)
        await self._to_coordinator(ctx, match)

    async def _to_another_supporter(
        self, ctx: FlowContext, match: Match, *, urgent: bool, announce: bool = True
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
            ctx.go(NAME, Step.WAITING, request_id=request.id)

    async def _to_coordinator(self, ctx: FlowContext, match: Match) -> None:
        """The supporter hands over: a coordinator is alerted, the seeker is told kindly and
        waits first in line for the next supporter."""
        from flows.alerts import alert_coordinators

        await alert_coordinators(ctx, "relay.alert_handover", ref=match.request_id)
        seeker = await ctx.session.get(Participant, match.seeker_id)
        assert seeker is not None
        ctx.send(seeker, OutboundMessage("relay.handover_to_coordinator_seeker"))
        await self._to_another_supporter(ctx, match, urgent=True, announce=False)
        ctx.reply("relay.handover_done")

    async def _keep_going(self, ctx: FlowContext, match_id: int) -> None:
        match = await self._my_open_match(ctx, match_id)
        if match is None:
            return ctx.reply("relay.already_ended")
        match.last_activity_at = ctx.now
        ctx.reply("relay.idle_kept")

    # Selecting a conversation (supporters) -----------------------------------------------------

    async def _show_selector(self, ctx: FlowContext, matches: list[Match], text_id: str) -> None:
        me = ctx.participant
        buttons = [
            Button(
                "relay.switch_button", f"switch:{m.id}", {"alias": (await _other(ctx, m, me)).alias}
            )  # fmt: skip
            for m in matches
        ]
        ctx.reply(text_id, buttons=buttons)

    async def _switch_menu(self, ctx: FlowContext) -> None:
        me = ctx.participant
        matches = await supporter_matches(ctx, me.id) if not _is_seeker(me) else []
        if not matches:
            return ctx.reply("relay.nothing_to_switch")
        if ctx.state.flow != NAME:
            ctx.go(NAME, Step.CONNECTED)
        await self._show_selector(ctx, matches, "relay.switch_which")

    async def _pick(self, ctx: FlowContext, match_id: int) -> None:
        """She chose whom she writes to: that becomes her active conversation, held words go."""
        me = ctx.participant
        match = await self._my_open_match(ctx, match_id)
        data = dict(ctx.state.data or {}) if ctx.state.flow == NAME else {}
        if match is None or match.supporter_id != me.id:
            ctx.reply("relay.already_ended")
            others = await supporter_matches(ctx, me.id)
            if data.get("held") and others:
                return await self._show_selector(ctx, others, "relay.which_conversation")
            data.pop("held", None)  # nobody left to receive them: her words are not kept
            ctx.state.data = data
            return None
        held = data.pop("held", [])
        data.pop("choices", None)
        data["active_match"] = match.id
        ctx.go(NAME, Step.CONNECTED, **data)
        seeker = await _other(ctx, match, me)
        if match.status == MatchStatus.PAUSED and held:
            return ctx.reply("relay.paused")
        for item in held:
            await deliver(ctx, match, me, seeker, item)
        ctx.reply("relay.sent_to" if held else "relay.now_writing_to", alias=seeker.alias)

    async def _route(
        self, ctx: FlowContext, event: InboundEvent | None, matches: list[Match]
    ) -> Match | None:
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
        active = (ctx.state.data or {}).get("active_match") if ctx.state.flow == NAME else None
        if active in by_id:
            return by_id[active]
        if event is not None and isinstance(active, int):
            # The woman she was writing to has ended it: her words must not fall to another.
            ended = await ctx.session.get(Match, active)  # None when she was erased: ask whom
            return ended if ended is not None and ended.supporter_id == ctx.participant.id else None
        if len(matches) == 1:
            return matches[0]
        return None

    # Messages ----------------------------------------------------------------------------------

    async def _from_seeker(self, ctx: FlowContext, event: InboundEvent) -> None:
        me = ctx.participant
        match = await seeker_match(ctx, me.id)
        if match is not None:
            if ctx.state.flow != NAME or ctx.state.step != Step.CONNECTED:
                ctx.go(NAME, Step.CONNECTED, match_id=match.id)
            return await self._relay(ctx, match, event)
        request = await waiting_request_of(ctx, me.id)
        if request is not None:
            return self._keep_for_later(ctx, request, event)
        ctx.reply("relay.conversation_over")
        await go_home(ctx)

    def _keep_for_later(self, ctx: FlowContext, request: HelpRequest, event: InboundEvent) -> None:
        """While she waits, what she writes is kept for her supporter (until the request ends)."""
        if event.kind == EventKind.UNSUPPORTED:
            return ctx.reply("relay.unsupported")
        data = dict(ctx.state.data or {}) if ctx.state.flow == NAME else {}
        kept = list(data.get("kept", []))
        if event.kind == EventKind.EDIT:
            for item in kept:
                if item.get("chat_message_id") == event.edited_message_id:
                    item["text"] = event.text or ""
            data["kept"] = kept
            ctx.go(NAME, Step.WAITING, **{**data, "request_id": request.id})
            return
        if len(kept) >= MAX_KEPT:
            return ctx.reply("relay.kept_full")
        kept.append(kept_item(event))
        data.pop("choices", None)
        ctx.go(NAME, Step.WAITING, **{**data, "kept": kept, "request_id": request.id})
        ctx.reply("relay.kept_for_supporter" if len(kept) == 1 else "relay.kept_more",
                  buttons=waiting_buttons(request))  # fmt: skip

    async def _from_supporter(self, ctx: FlowContext, event: InboundEvent) -> None:
        me = ctx.participant
        matches = await supporter_matches(ctx, me.id)
        if not matches:
            ctx.reply("relay.no_open_conversations")
            return await go_home(ctx)
        if ctx.state.flow != NAME:
            ctx.go(NAME, Step.CONNECTED)
        match = await self._route(ctx, event, matches)
        if match is not None and match.status not in OPEN_MATCH:
            if ctx.state.data.get("active_match") == match.id:
                ctx.state.data = {**ctx.state.data, "active_match": None}  # told once
            seeker = await _other(ctx, match, me)
            return ctx.reply("relay.reply_to_ended", alias=seeker.alias)
        if match is not None:
            return await self._relay(ctx, match, event)
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
        ctx.go(NAME, Step.HELD, **data)
        await self._show_selector(ctx, matches, "relay.which_conversation")

    async def _relay(self, ctx: FlowContext, match: Match, event: InboundEvent) -> None:
        me = ctx.participant
        if "choices" in (ctx.state.data or {}):
            # She is writing to the other woman now: a later "1" is her words, not a choice.
            ctx.state.data = {k: v for k, v in ctx.state.data.items() if k != "choices"}
        if match.status == MatchStatus.PAUSED:
            return ctx.reply("relay.paused")
        other = await _other(ctx, match, me)
        if event.kind == EventKind.UNSUPPORTED:
            return ctx.reply("relay.unsupported")
        if event.kind == EventKind.EDIT:
            return await relay_edit(ctx, match, me, other, event)
        reply_source = await self._reply_source(ctx, event, match)
        await deliver(ctx, match, me, other, kept_item(event), reply_to=reply_source)

    async def _reply_source(
        self, ctx: FlowContext, event: InboundEvent, match: Match
    ) -> str | None:
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


# --- Scheduled work (bot/jobs.py calls these) -----------------------------------------------------


def _idle_buttons(match: Match) -> tuple[Button, ...]:
    return (Button("relay.idle_continue", f"idle:continue:{match.id}"),
            Button("relay.idle_end", f"idle:end:{match.id}"))  # fmt: skip


async def participant_unreachable(ctx: FlowContext) -> None:
    """She blocked the bot or opted out: her conversations end, so nobody writes into the void.

    The other side gets the neutral notice; a request still waiting is withdrawn.
    """
    me = ctx.participant
    matches = await supporter_matches(ctx, me.id)
    if (mine := await seeker_match(ctx, me.id)) is not None:
        matches.append(mine)
    for match in matches:
        await end_match(ctx, match, by=me, reason="unreachable")
    request = await waiting_request_of(ctx, me.id)
    if request is not None:
        request.status, request.ended_at, request.note = RequestStatus.CANCELLED, ctx.now, None
        await withdraw_offers(ctx, request, "match.offer_withdrawn")


async def idle_check(ctx: FlowContext, match_id: int) -> None:
    """A quiet conversation is asked whether to go on; it is closed later if nobody answers."""
    match = await ctx.session.get(Match, match_id)
    if match is None or match.status not in OPEN_MATCH:
        return
    check_after = timedelta(hours=float(ctx.config.idle_check_after_hours))
    due = match.last_activity_at + check_after
    if match.status == MatchStatus.PAUSED:
        # Looked at again a quiet spell later, not every minute while a report waits.
        ctx.schedule("idle_check", ctx.now + check_after, match.id)
        return
    if due > ctx.now:
        ctx.schedule("idle_check", max(due, ctx.now + timedelta(minutes=1)), match.id)
        return
    for person_id in (match.seeker_id, match.supporter_id):
        person = await ctx.session.get(Participant, person_id)
        if person is not None:
            # Any message counts as "go on", so a typed number is relayed, not taken as a choice.
            ctx.send(person, OutboundMessage("relay.idle_ask", {}, _idle_buttons(match)))
    close_after = timedelta(hours=float(ctx.config.idle_close_after_hours))
    ctx.schedule("idle_close", ctx.now + close_after, match.id, asked_at=ctx.now.isoformat())


async def idle_close(ctx: FlowContext, match_id: int, asked_at: datetime) -> None:
    match = await ctx.session.get(Match, match_id)
    if match is None or match.status not in OPEN_MATCH:
        return
    # Paused meanwhile: the checks go on, or a resumed conversation would never be closed.
    if match.status == MatchStatus.PAUSED or match.last_activity_at > asked_at:
        check_after = timedelta(hours=float(ctx.config.idle_check_after_hours))
        ctx.schedule("idle_check", match.last_activity_at + check_after, match.id)
        return
    await end_match(ctx, match, by=None, reason="idle")
