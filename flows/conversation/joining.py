"""A coordinator in a conversation flagged for danger: joined as a third, named participant, or
taking it over from the supporter. Both women are told each time, and every step is audited.

Joined, she reads what both women write and both read her, each under an alias; she leaves with
`/leave` (or `/end`). Taking over, she becomes the supporter side: the supporter is told and
leaves, the woman is told who continues with her.

```mermaid
stateDiagram-v2
    state "coordinator" as coordinator {
        [*] --> joined: /join REF (flagged only; both women told "Coordinator X joined")
        joined --> joined: she writes (both women get it under her alias, and she gets theirs)
        joined --> [*]: /leave or /end (both women told she left)
        joined --> took_over: /takeover REF
        [*] --> took_over: /takeover REF (flagged only)
        took_over --> took_over: she writes (the woman gets it: she is the supporter side now)
        took_over --> [*]: /end (ended like any conversation)
    }
    state "supporter" as supporter {
        connected --> connected: a coordinator joins or leaves (told)
        connected --> [*]: taken over (told, asked how she is; her words no longer reach the woman)
    }
    state "woman" as woman {
        talking --> talking: a coordinator joins, leaves or takes over (told each time)
    }
```
"""

from sqlalchemy import select, update

from flows.audit import audit
from flows.context import FlowContext
from flows.conversation.lifecycle import ask_taken_off, go_home
from flows.conversation.lookups import (
    OPEN_MATCH,
    RELAY,
    RelayStep,
    writer_matches,
)
from flows.detour import go_back, step_aside
from flows.events import OutboundMessage
from models import HelpRequest, Match, Participant


async def live_match(ctx: FlowContext, ref: int) -> tuple[Match, HelpRequest] | None:
    """The conversation going on now for request `ref` (the number `/live` shows)."""
    row = (
        await ctx.session.execute(
            select(Match, HelpRequest)
            .join(HelpRequest, HelpRequest.id == Match.request_id)
            .where(Match.request_id == ref, Match.status.in_(OPEN_MATCH))
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def _both(ctx: FlowContext, match: Match) -> tuple[Participant, Participant]:
    seeker = await ctx.session.get(Participant, match.seeker_id)
    supporter = await ctx.session.get(Participant, match.supporter_id)
    assert seeker is not None and supporter is not None
    return seeker, supporter


def _into_conversation(ctx: FlowContext, match: Match) -> None:
    """Her words now go to this conversation; where she was is kept for when she leaves."""
    if ctx.state.flow == RELAY:
        ctx.go(RELAY, RelayStep.CONNECTED, **{**ctx.state.data, "active_match": match.id})
    else:
        step_aside(ctx, RELAY, RelayStep.CONNECTED, active_match=match.id)


async def join_match(ctx: FlowContext, ref: int) -> None:
    me = ctx.participant
    found = await live_match(ctx, ref)
    if found is None:
        return ctx.reply("join.no_such", ref=ref)
    match, request = found
    if me.id in (match.supporter_id, match.joined_by):
        return ctx.reply("join.already_in", ref=ref)
    if request.danger_signal_at is None:
        return ctx.reply("join.not_flagged", ref=ref)
    done = await ctx.session.execute(
        update(Match)
        .where(Match.id == match.id, Match.joined_by.is_(None), Match.status.in_(OPEN_MATCH))
        .values(joined_by=me.id)
    )
    await ctx.session.refresh(match)
    if done.rowcount != 1:
        holder = await ctx.session.get(Participant, match.joined_by or 0)
        return ctx.reply("join.someone_there", ref=ref, alias=holder.alias if holder else "–")
    seeker, supporter = await _both(ctx, match)
    for person in (seeker, supporter):
        ctx.send(person, OutboundMessage("join.joined", {"alias": me.alias}))
    audit(ctx.session, ctx.now, f"participant:{me.id}", "conversation.join", f"match:{match.id}",
          request=request.id)  # fmt: skip
    _into_conversation(ctx, match)
    ctx.reply("join.you_joined", ref=ref, seeker=seeker.alias, supporter=supporter.alias)


async def leave_match(ctx: FlowContext, match: Match | None = None) -> None:
    """She leaves a conversation she joined (the newest one, unless she says which)."""
    me = ctx.participant
    if match is None:
        match = (
            await ctx.session.execute(
                select(Match)
                .where(Match.joined_by == me.id, Match.status.in_(OPEN_MATCH))
                .order_by(Match.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
    if match is None:
        return ctx.reply("join.nothing_to_leave")
    done = await ctx.session.execute(
        update(Match).where(Match.id == match.id, Match.joined_by == me.id).values(joined_by=None)
    )
    if done.rowcount != 1:
        return ctx.reply("join.nothing_to_leave")
    await ctx.session.refresh(match)
    seeker, supporter = await _both(ctx, match)
    for person in (seeker, supporter):
        ctx.send(person, OutboundMessage("join.left", {"alias": me.alias}))
    audit(ctx.session, ctx.now, f"participant:{me.id}", "conversation.leave", f"match:{match.id}",
          request=match.request_id)  # fmt: skip
    ctx.reply("join.you_left", ref=match.request_id)
    await _after_leaving(ctx, match)


async def _after_leaving(ctx: FlowContext, match: Match) -> None:
    if ctx.state.flow != RELAY:
        return
    if await writer_matches(ctx, ctx.participant.id):
        data = dict(ctx.state.data or {})
        if data.get("active_match") == match.id:
            data["active_match"] = None
        ctx.state.data = data
    elif isinstance((ctx.state.data or {}).get("back"), dict):
        go_back(ctx, RELAY)
    else:
        await go_home(ctx)


async def take_over(ctx: FlowContext, ref: int) -> None:
    """She continues the conversation in the supporter's place; the supporter leaves it."""
    me = ctx.participant
    found = await live_match(ctx, ref)
    if found is None:
        return ctx.reply("join.no_such", ref=ref)
    match, request = found
    if match.supporter_id == me.id:
        return ctx.reply("join.already_in", ref=ref)
    if request.danger_signal_at is None and match.joined_by != me.id:
        return ctx.reply("join.not_flagged", ref=ref)
    before = match.supporter_id
    done = await ctx.session.execute(
        update(Match)
        .where(Match.id == match.id, Match.supporter_id == before, Match.status.in_(OPEN_MATCH))
        .values(supporter_id=me.id, joined_by=None)
    )
    await ctx.session.refresh(match)
    if done.rowcount != 1:
        return ctx.reply("join.no_such", ref=ref)
    seeker = await ctx.session.get(Participant, match.seeker_id)
    supporter = await ctx.session.get(Participant, before)
    assert seeker is not None and supporter is not None
    ctx.send(supporter, OutboundMessage("takeover.supporter", {"alias": me.alias,
                                                              "seeker": seeker.alias}))  # fmt: skip
    ctx.send(seeker, OutboundMessage("takeover.seeker", {"alias": me.alias}))
    await ask_taken_off(ctx, match, supporter)  # it ended suddenly for her: how is she?
    audit(ctx.session, ctx.now, f"participant:{me.id}", "conversation.take_over",
          f"match:{match.id}", request=request.id, supporter=f"participant:{before}")  # fmt: skip
    _into_conversation(ctx, match)
    ctx.reply("takeover.done", ref=ref, seeker=seeker.alias, supporter=supporter.alias)
