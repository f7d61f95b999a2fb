"""Check-ins for the women who asked for help: after a conversation, and after the help paths.

A check-in is a scheduled row for her (kind "checkin"), due inside the hours she may be written
to first; one that comes due outside them, or while a quick exit holds her chat, is moved, not
dropped. After the help paths the words are innocuous (someone else may read her phone) and one
tap shows the numbers again. Ending everything (/end with nothing open), "no more check-ins",
blocking the bot and /forget cancel what is still waiting.

```mermaid
stateDiagram-v2
    [*] --> due: conversation ended / help numbers shown (row scheduled in her hours)
    due --> due: outside her hours, or her chat held after a quick exit (moved)
    due --> asked: in her hours (question with buttons)
    due --> [*]: she is back in a conversation, stopped, or said no more
    asked --> [*]: I'm OK (a kind word)
    asked --> intake: I'd like to talk again (a new request, the same supporter first)
    asked --> [*]: no more check-ins (the rest cancelled)
```
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from flows.context import FlowContext
from flows.conversation.lookups import open_conversation, send_with_choices
from flows.conversation.reach import next_reachable
from flows.events import Button, OutboundMessage
from models import Match, Participant, ParticipantStatus, Role, ScheduledJob

JOB = "checkin"
AFTER_CONVERSATION = "conversation"
AFTER_REFERRAL = "referral"
HELD_RETRY = timedelta(hours=24)  # a held chat is tried again a day later...
GIVE_UP_AFTER = timedelta(days=7)  # ...for a week at most: she may never come back


async def schedule_checkin(
    ctx: FlowContext, person: Participant, about: str, after: timedelta, **payload: Any
) -> None:
    """A check-in for her `after` from now, moved into her hours; nothing if she said no."""
    if person.role != Role.SEEKER or not person.checkins_wanted:
        return
    due = next_reachable(person, ctx.now + after, ctx.config)
    if due is None:
        return  # "never write to me first"
    ctx.schedule(JOB, due, person.id, participant_id=person.id, about=about,
                 first_due=due.isoformat(), **payload)  # fmt: skip


async def after_conversation(ctx: FlowContext, seeker: Participant, match_id: int) -> None:
    hours = float(getattr(ctx.config, "checkin_after_end_hours", 24.0))
    await schedule_checkin(ctx, seeker, AFTER_CONVERSATION, timedelta(hours=hours),
                           match_id=match_id)  # fmt: skip


async def after_referral(ctx: FlowContext, kind: str) -> None:
    """Check-ins after the help paths; once per visit, not again while some still wait."""
    me = ctx.participant
    if await pending_checkins(ctx, me.id, AFTER_REFERRAL):
        return
    for hours in getattr(ctx.config, "checkin_after_referral_hours", [2.0, 48.0]):
        await schedule_checkin(ctx, me, AFTER_REFERRAL, timedelta(hours=float(hours)), help=kind)


async def pending_checkins(ctx: FlowContext, person_id: int, about: str | None = None) -> int:
    query = select(ScheduledJob).where(
        ScheduledJob.kind == JOB, ScheduledJob.target_id == person_id,
        ScheduledJob.done_at.is_(None),
    )  # fmt: skip
    jobs = (await ctx.session.execute(query)).scalars().all()
    return sum(1 for job in jobs if about is None or (job.payload or {}).get("about") == about)


async def cancel_checkins(ctx: FlowContext, person_id: int) -> int:
    """Every check-in still waiting for her is done, unsent; returns how many there were."""
    result = await ctx.session.execute(
        update(ScheduledJob)
        .where(
            ScheduledJob.kind == JOB,
            ScheduledJob.target_id == person_id,
            ScheduledJob.done_at.is_(None),
        )
        .values(done_at=ctx.now, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


async def held(ctx: FlowContext, person: Participant) -> bool:
    """Her chat is held: she used the quick exit and has not written since. A check-in is moved
    rather than kept back with the rest, so it never lands on her screen in a pile later."""
    return person.held_since is not None


async def run_checkin(ctx: FlowContext, job: ScheduledJob) -> None:
    """The job: ask how she is, or move the question to a better moment, or let it go."""
    me, payload = ctx.participant, dict(job.payload or {})
    if me.status != ParticipantStatus.ACTIVE or not me.checkins_wanted:
        return
    request, match = await open_conversation(ctx)
    if match is not None or (request is not None and payload.get("about") == AFTER_CONVERSATION):
        return  # she is talking to someone (again): no need to ask how the last one went
    first_due = datetime.fromisoformat(str(payload.get("first_due") or job.due_at.isoformat()))
    wanted = ctx.now + HELD_RETRY if await held(ctx, me) else ctx.now
    if wanted - first_due > GIVE_UP_AFTER:
        return
    when = next_reachable(me, wanted, ctx.config)
    if when is None:
        return
    if when > ctx.now:
        ctx.schedule(JOB, when, me.id, **payload)
        return
    await send_with_choices(ctx, me, checkin_message(payload))  # typeable as "1"–"3"


def checkin_message(payload: dict[str, Any]) -> OutboundMessage:
    if payload.get("about") == AFTER_REFERRAL:
        kind = str(payload.get("help") or "other")
        buttons = (
            Button("care.btn_fine", "care:ok"),
            Button("care.btn_numbers", f"referral:kind:{kind}"),
            Button("care.btn_stop_quiet", "care:stop"),
        )
        return OutboundMessage("care.checkin_quiet", {}, buttons, kind="checkin")
    buttons = (
        Button("care.btn_ok", "care:ok"),
        Button("care.btn_talk", "care:talk"),
        Button("care.btn_stop", "care:stop"),
    )
    return OutboundMessage("care.checkin", {}, buttons, kind="checkin")


def again_question(match: Match, person: Participant, other: Participant) -> OutboundMessage:
    """At the end, each side may say yes to talking again; only aliases are ever shown."""
    text_id = "care.again_ask" if person.id == match.seeker_id else "care.again_ask_supporter"
    buttons = (
        Button("care.btn_again_yes", f"care:again:{match.id}:yes"),
        Button("care.btn_again_no", f"care:again:{match.id}:no"),
    )
    return OutboundMessage(text_id, {"alias": other.alias}, buttons)


async def answer_again(ctx: FlowContext, match_id: int, yes: bool) -> None:
    match = await ctx.session.get(Match, match_id)
    me = ctx.participant
    sides = (match.seeker_id, match.supporter_id) if match is not None else ()
    if match is None or match.ended_at is None or me.id not in sides:
        return ctx.reply("relay.button_old")
    if me.id == match.seeker_id:
        match.seeker_again = yes
    else:
        match.supporter_again = yes
    ctx.reply("care.again_yes" if yes else "care.again_no")
