"""Idle conversations: a quiet one is asked whether to go on, and closed kindly if nobody does."""

from datetime import datetime, timedelta

from flows.context import FlowContext
from flows.conversation.lifecycle import end_match
from flows.conversation.lookups import OPEN_MATCH
from flows.events import Button, OutboundMessage
from models import Match, MatchStatus, Participant


def _idle_buttons(match: Match) -> tuple[Button, ...]:
    return (Button("relay.idle_continue", f"idle:continue:{match.id}"),
            Button("relay.idle_end", f"idle:end:{match.id}"))  # fmt: skip


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
