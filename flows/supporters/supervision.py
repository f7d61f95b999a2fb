"""Supervision for coordinators, never the words: `/live`, `/queue` and `/load`; `/join`,
`/leave` and `/takeover` of a conversation flagged for danger (conversation/joining does it).

`/live` gives each conversation going on now (reference, both aliases, topic, language, minutes,
danger first); `/queue` the requests still waiting (urgent first, then the longest waiting);
`/load` each supporter's open conversations, her week so far and her duty. Each is audited.

```mermaid
stateDiagram-v2
    state "any state (unchanged)" as any
    any --> any: /live (one line per live conversation, flagged first; audited)
    any --> any: /queue (one line per waiting request, urgent first; audited)
    any --> any: /load (one line per supporter in good standing; audited)
    any --> relay: /join REF, /takeover REF (a flagged conversation; see conversation/joining)
    relay --> any: /leave (back where she was)
    any --> any: not a coordinator (unknown command)
```
"""

from sqlalchemy import select
from sqlalchemy.orm import aliased

from flows.audit import audit
from flows.commands import unknown_command
from flows.context import FlowContext
from flows.conversation.eligibility import (
    open_match_counts,
    supporters_in_good_standing,
    weekly_match_counts,
)
from flows.conversation.joining import join_match, leave_match, take_over
from flows.conversation.lookups import OPEN_MATCH, language_param, topic_param
from flows.events import InboundEvent
from flows.supporters.wellbeing import is_paused
from i18n import N_
from models import HelpRequest, Match, Participant, RequestStatus, Role

NAME = "supervision"
MOST = 30  # lines in one answer; more would not fit one message
DUTY_TEXTS = (N_("coord.duty_on"), N_("coord.duty_off"), N_("coord.duty_paused"))


class SupervisionFlow:
    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if ctx.participant.role != Role.COORDINATOR:
            return await unknown_command(ctx)
        if event.command == "queue":
            return await self._queue(ctx)
        if event.command == "load":
            return await self._load(ctx)
        if event.command == "leave":
            return await leave_match(ctx)
        if event.command in ("join", "takeover"):
            ref = (event.args or "").strip().lstrip("#")
            if not ref.isdigit():
                return ctx.reply("join.usage", command=f"/{event.command}")
            act = join_match if event.command == "join" else take_over
            return await act(ctx, int(ref))
        seeker, supporter = aliased(Participant), aliased(Participant)
        rows = (
            await ctx.session.execute(
                select(Match, HelpRequest, seeker.alias, supporter.alias)
                .join(HelpRequest, HelpRequest.id == Match.request_id)
                .join(seeker, seeker.id == Match.seeker_id)
                .join(supporter, supporter.id == Match.supporter_id)
                .where(Match.status.in_(OPEN_MATCH))
                .order_by(HelpRequest.danger_signal_at.is_(None), Match.started_at)
            )
        ).all()
        who = f"participant:{ctx.participant.id}"
        audit(ctx.session, ctx.now, who, "supervision.list", "matches", count=len(rows))
        if not rows:
            ctx.reply("coord.live_none")
            return
        ctx.reply("coord.live_count", count=len(rows))
        lines = []
        for match, request, her, helper in rows[:MOST]:
            minutes = int((ctx.now - match.started_at).total_seconds() // 60)
            text_id = "coord.live_item_flagged" if request.danger_signal_at else "coord.live_item"
            lines.append((text_id, {"ref": request.id, "seeker": her, "supporter": helper,
                                    "topic": topic_param(request.topic),
                                    "language": language_param(request.language),
                                    "minutes": minutes}))  # fmt: skip
        for text_id, params in lines:
            ctx.reply(text_id, **params)

    async def _queue(self, ctx: FlowContext) -> None:
        waiting = (
            await ctx.session.execute(
                select(HelpRequest)
                .where(HelpRequest.status == RequestStatus.WAITING)
                .order_by(HelpRequest.urgent.desc(), HelpRequest.created_at, HelpRequest.id)
            )
        ).scalars().all()  # fmt: skip
        who = f"participant:{ctx.participant.id}"
        audit(ctx.session, ctx.now, who, "supervision.queue", "help_requests", count=len(waiting))
        if not waiting:
            ctx.reply("coord.queue_none")
            return
        ctx.reply("coord.queue_count", count=len(waiting))
        for request in waiting[:MOST]:
            minutes = int((ctx.now - request.created_at).total_seconds() // 60)
            ctx.reply("coord.queue_item_urgent" if request.urgent else "coord.queue_item",
                      ref=request.id, topic=topic_param(request.topic),
                      language=language_param(request.language), minutes=minutes)  # fmt: skip

    async def _load(self, ctx: FlowContext) -> None:
        rows = await supporters_in_good_standing(ctx)
        who = f"participant:{ctx.participant.id}"
        audit(ctx.session, ctx.now, who, "supervision.load", "supporters", count=len(rows))
        if not rows:
            ctx.reply("coord.load_none")
            return
        ids = [person.id for person, _ in rows]
        now_open = await open_match_counts(ctx, ids)
        this_week = await weekly_match_counts(ctx, ids)
        for person, profile in rows[:MOST]:
            duty = ("coord.duty_paused" if is_paused(profile, ctx.now)
                    else "coord.duty_on" if profile.on_duty else "coord.duty_off")  # fmt: skip
            ctx.reply("coord.load_item", alias=person.alias, open=now_open.get(person.id, 0),
                      capacity=profile.capacity, week=this_week.get(person.id, 0),
                      duty={"msgid": duty})  # fmt: skip
