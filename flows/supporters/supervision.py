"""Supervision: `/live` lists the conversations going on now for a coordinator, never the words.

Each line gives the request's reference, both aliases, topic, language, how long it has run and
whether danger was noticed, flagged ones first; the listing itself is audited.

```mermaid
stateDiagram-v2
    state "any state (unchanged)" as any
    any --> any: /live (one line per live conversation, flagged first; audited)
    any --> any: not a coordinator (unknown command)
```
"""

from sqlalchemy import select
from sqlalchemy.orm import aliased

from flows.audit import audit
from flows.commands import unknown_command
from flows.context import FlowContext
from flows.conversation.lookups import OPEN_MATCH, language_param, topic_param
from flows.events import InboundEvent
from models import HelpRequest, Match, Participant, Role

NAME = "supervision"
MOST = 30  # lines in one answer; more would not fit one message


class SupervisionFlow:
    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if ctx.participant.role != Role.COORDINATOR:
            return await unknown_command(ctx)
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
