"""While she waits: her place in the queue and an honest estimate, when she asks and now and then.

The estimate is the median wait of the requests in her language matched in the last two weeks,
and only when there were a few: without them the bot says it cannot tell, rather than guess.
Coordinators are reminded at a set interval while a request keeps waiting.

```mermaid
stateDiagram-v2
    [*] --> waiting: request opened (update scheduled)
    waiting --> waiting: she asks, or the interval passes (place + estimate, in her hours)
    waiting --> waiting: waited another reminder interval (coordinators reminded)
    waiting --> [*]: matched, cancelled or expired (updates stop)
```
"""

from datetime import timedelta
from statistics import median

from sqlalchemy import func, or_, select

from flows.alerts import alert_coordinators
from flows.context import FlowContext
from flows.conversation.checkins import held
from flows.conversation.lookups import language_param, topic_param, waiting_request_of
from flows.conversation.reach import next_reachable
from flows.events import Button, OutboundMessage, msgid
from models import HelpRequest, RequestStatus

JOB = "waiting_update"
ESTIMATE_FROM = timedelta(days=14)
ESTIMATE_NEEDS = 3  # matched requests, at least, before a number is said


def waiting_buttons(request: HelpRequest) -> list[Button]:
    """What she can do while she waits: help now, cancel, ask where she stands."""
    return [
        Button("match.button_help_now", "menu:help_now"),
        Button("match.button_cancel", f"relay:cancel:{request.id}"),
        Button("care.btn_where", "care:where"),
    ]


async def place_in_queue(ctx: FlowContext, request: HelpRequest) -> int:
    """1 for the first; urgent requests go before the others, then the oldest first."""
    same = HelpRequest.urgent.is_(bool(request.urgent))
    before = [
        same & (HelpRequest.created_at < request.created_at),
        same & (HelpRequest.created_at == request.created_at) & (HelpRequest.id < request.id),
    ]
    if not request.urgent:
        before.append(HelpRequest.urgent.is_(True))
    ahead = select(func.count(HelpRequest.id)).where(
        HelpRequest.status == RequestStatus.WAITING,
        HelpRequest.language == request.language,
        HelpRequest.id != request.id,
        or_(*before),
    )
    return int((await ctx.session.execute(ahead)).scalar_one()) + 1


async def estimate_minutes(ctx: FlowContext, language: str) -> int | None:
    """The median wait of recent matched requests in her language, to 5 minutes; or None."""
    query = select(HelpRequest.created_at, HelpRequest.matched_at).where(
        HelpRequest.language == language,
        HelpRequest.matched_at.is_not(None),
        HelpRequest.matched_at >= ctx.now - ESTIMATE_FROM,
    )
    waits = [
        (matched - created).total_seconds() / 60
        for created, matched in (await ctx.session.execute(query)).all()
    ]
    if len(waits) < ESTIMATE_NEEDS:
        return None
    return max(5, int(round(median(waits) / 5) * 5))


async def where_message(ctx: FlowContext, request: HelpRequest) -> None:
    position = await place_in_queue(ctx, request)
    minutes = await estimate_minutes(ctx, request.language)
    estimate = (
        msgid("care.no_estimate")
        if minutes is None
        else {"msgid": "care.estimate", "params": {"minutes": minutes}}
    )
    ctx.send(
        ctx.participant,
        OutboundMessage("care.where", {"position": position, "estimate": estimate},
                        tuple(waiting_buttons(request))),
    )  # fmt: skip


async def she_asks(ctx: FlowContext) -> None:
    request = await waiting_request_of(ctx, ctx.participant.id)
    if request is None:
        return ctx.reply("care.not_waiting")
    await where_message(ctx, request)


def schedule_updates(ctx: FlowContext, request: HelpRequest) -> None:
    every = timedelta(minutes=float(getattr(ctx.config, "waiting_update_minutes", 30.0)))
    ctx.schedule(JOB, ctx.now + every, request.id)


async def waiting_update(ctx: FlowContext, request_id: int) -> None:
    """The job: tell her where she stands (in her hours), remind coordinators, plan the next."""
    request = await ctx.session.get(HelpRequest, request_id)
    if request is None or request.status != RequestStatus.WAITING:
        return
    me = ctx.participant
    if next_reachable(me, ctx.now, ctx.config) == ctx.now and not await held(ctx, me):
        await where_message(ctx, request)
    every = timedelta(minutes=float(getattr(ctx.config, "waiting_update_minutes", 30.0)))
    ctx.schedule(JOB, ctx.now + every, request.id)
    remind = timedelta(minutes=float(getattr(ctx.config, "coordinator_reminder_minutes", 120)))
    waited = ctx.now - request.created_at
    # Reminded at each whole interval waited; the first alert stays the matching's own.
    if request.coordinator_alerted and waited >= remind and (waited % remind) < every:
        await alert_coordinators(
            ctx, "care.alert_still_waiting", ref=request.id,
            minutes=round(waited.total_seconds() / 60),
            topic=topic_param(request.topic), language=language_param(request.language),
        )  # fmt: skip
