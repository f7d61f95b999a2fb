"""Relay: two women talk through the bot, each knowing the other only by an alias.

Messages go both ways as copies, never forwards; contact details are masked; a supporter with
several conversations always knows whom she writes to, and a message that could reach the wrong
woman is held until she says which. Where each side stands is read from the database (her
request, her matches), so an end or a pause by the other side is seen at once. Starting and
ending live in lifecycle, copying in delivery, a supporter's routing in routing, hand-overs in
handover, a coordinator joining or taking over in joining, and the idle jobs in idle; this flow
answers what each woman writes and taps.

```mermaid
stateDiagram-v2
    state "seeker" as seeker {
        [*] --> waiting: submit_request
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
        connected --> connected: taken over by a coordinator (told; her words there refused)
    }
    state "coordinator" as coordinator {
        [*] --> connected: /join or /takeover a flagged one (conversation/joining)
        connected --> connected: she writes (to both women when joined, else to the woman)
        connected --> back: /leave or /end of one she joined (where she was before)
    }
```
"""

from sqlalchemy import update

from flows.commands import unknown_command
from flows.context import FlowContext
from flows.conversation.checkins import cancel_checkins
from flows.conversation.delivery import MAX_KEPT, kept_item, relay_message
from flows.conversation.handover import handover
from flows.conversation.joining import leave_match
from flows.conversation.lifecycle import end_match, go_home
from flows.conversation.lookups import (
    RELAY,
    RelayStep,
    is_seeker,
    my_open_match,
    other_side,
    seeker_match,
    waiting_request_of,
    writer_matches,
)
from flows.conversation.offers import withdraw_offers
from flows.conversation.requests import tell_where_she_stands, waiting_buttons
from flows.conversation.routing import from_supporter, pick, show_selector, switch_menu
from flows.events import Button, EventKind, InboundEvent
from models import HelpRequest, Match, RequestStatus

NAME = RELAY


class RelayFlow:
    """Both sides of every conversation: her words, the buttons to end, switch or hand over."""

    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if event.kind in (EventKind.BLOCKED, EventKind.UNBLOCKED):
            return
        if event.kind == EventKind.COMMAND:
            return await self._command(ctx, event)
        if event.choice:
            return await self._choice(ctx, event.choice)
        if is_seeker(ctx.participant):
            return await self._from_seeker(ctx, event)
        return await from_supporter(ctx, event)

    async def resume(self, ctx: FlowContext) -> None:
        """Say where she stands in her conversation (after the menu or the help paths)."""
        me = ctx.participant
        if is_seeker(me):
            match = await seeker_match(ctx, me.id)
            if match is not None:
                ctx.go(RELAY, RelayStep.CONNECTED, match_id=match.id)
                other = await other_side(ctx, match, me)
                return ctx.reply("relay.still_connected", alias=other.alias)
            request = await waiting_request_of(ctx, me.id)
            if request is not None:
                kept = (ctx.state.data or {}).get("kept", []) if ctx.state.flow == RELAY else []
                ctx.go(RELAY, RelayStep.WAITING, request_id=request.id, kept=kept)
                return await tell_where_she_stands(ctx, me, request, offered=0)
            return await go_home(ctx)
        matches = await writer_matches(ctx, me.id)
        if not matches:
            return await go_home(ctx)
        data = dict(ctx.state.data or {}) if ctx.state.flow == RELAY else {}
        data.pop("choices", None)
        ctx.go(RELAY, RelayStep.CONNECTED, **data)
        await show_selector(ctx, matches, "relay.open_conversations")

    # Commands and buttons ----------------------------------------------------------------------

    async def _command(self, ctx: FlowContext, event: InboundEvent) -> None:
        match event.command:
            case "end":
                return await self._end(ctx, None)
            case "switch":
                return await switch_menu(ctx)
            case "handover":
                return await handover(ctx, None)
        await unknown_command(ctx)

    async def _choice(self, ctx: FlowContext, choice: str) -> None:
        parts = choice.split(":")
        target = int(parts[-1]) if parts[-1].isdigit() else None
        match parts[0], parts[1] if len(parts) > 1 else "":
            case "relay", "end":
                return await self._end(ctx, target)
            case "relay", "handover":
                return await handover(ctx, target)
            case "relay", "cancel":
                return await self._cancel(ctx, target)
            case "switch", _ if target is not None:
                return await pick(ctx, target)
            case "idle", "continue" if target is not None:
                return await self._keep_going(ctx, target)
            case "idle", "end" if target is not None:
                return await self._end(ctx, target)
        ctx.reply("relay.button_old")

    async def _end(self, ctx: FlowContext, match_id: int | None) -> None:
        me = ctx.participant
        if is_seeker(me):
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
            match = await my_open_match(ctx, match_id)
            if match is None:
                return ctx.reply("relay.already_ended")
            return await self._end_mine(ctx, match)
        matches = await writer_matches(ctx, me.id)
        if not matches:
            return ctx.reply("relay.nothing_to_end")
        if len(matches) == 1:
            return await self._end_mine(ctx, matches[0])
        # Never guess which conversation to end.
        buttons = [
            Button(
                "relay.end_which_button",
                f"relay:end:{m.id}",
                {"alias": (await other_side(ctx, m, me)).alias},
            )  # fmt: skip
            for m in matches
        ]
        ctx.reply("relay.end_which", buttons=buttons)

    async def _end_mine(self, ctx: FlowContext, match: Match) -> None:
        """A coordinator who joined leaves; whoever is the supporter side ends it for both."""
        if match.joined_by == ctx.participant.id:
            return await leave_match(ctx, match)
        await end_match(ctx, match, by=ctx.participant, reason="ended")

    async def _cancel(self, ctx: FlowContext, request_id: int | None) -> None:
        me = ctx.participant
        request = await waiting_request_of(ctx, me.id)
        if request is not None and request_id is not None and request.id != request_id:
            return ctx.reply("relay.button_old")  # the button of an earlier request
        if request is None:
            match = await seeker_match(ctx, me.id) if is_seeker(me) else None
            if match is not None:
                # An old "cancel" under the waiting message: the conversation she is in goes on.
                ctx.button_was_old()
                ctx.go(RELAY, RelayStep.CONNECTED, match_id=match.id)
                other = await other_side(ctx, match, me)
                return ctx.reply("relay.cancel_but_connected", alias=other.alias)
            ctx.reply("relay.nothing_to_end")
            if await cancel_checkins(ctx, me.id):  # ending everything: no check-ins either
                ctx.reply("care.cancelled_on_end")
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

    async def _keep_going(self, ctx: FlowContext, match_id: int) -> None:
        match = await my_open_match(ctx, match_id)
        if match is None:
            return ctx.reply("relay.already_ended")
        match.last_activity_at = ctx.now
        ctx.reply("relay.idle_kept")

    # Messages ----------------------------------------------------------------------------------

    async def _from_seeker(self, ctx: FlowContext, event: InboundEvent) -> None:
        me = ctx.participant
        match = await seeker_match(ctx, me.id)
        if match is not None:
            if ctx.state.flow != RELAY or ctx.state.step != RelayStep.CONNECTED:
                ctx.go(RELAY, RelayStep.CONNECTED, match_id=match.id)
            return await relay_message(ctx, match, event)
        request = await waiting_request_of(ctx, me.id)
        if request is not None:
            return self._keep_for_later(ctx, request, event)
        ctx.reply("relay.conversation_over")
        await go_home(ctx)

    def _keep_for_later(self, ctx: FlowContext, request: HelpRequest, event: InboundEvent) -> None:
        """While she waits, what she writes is kept for her supporter (until the request ends)."""
        if event.kind == EventKind.UNSUPPORTED:
            return ctx.reply("relay.unsupported")
        data = dict(ctx.state.data or {}) if ctx.state.flow == RELAY else {}
        kept = list(data.get("kept", []))
        if event.kind == EventKind.EDIT:
            for item in kept:
                if item.get("chat_message_id") == event.edited_message_id:
                    item["text"] = event.text or ""
            data["kept"] = kept
            ctx.go(RELAY, RelayStep.WAITING, **{**data, "request_id": request.id})
            return
        if len(kept) >= MAX_KEPT:
            return ctx.reply("relay.kept_full")
        kept.append(kept_item(event))
        data.pop("choices", None)
        ctx.go(RELAY, RelayStep.WAITING, **{**data, "kept": kept, "request_id": request.id})
        ctx.reply("relay.kept_for_supporter" if len(kept) == 1 else "relay.kept_more",
                  buttons=waiting_buttons(request))  # fmt: skip
