"""Care for the supporters: "pause me", and a weekly "how are you?" to those who supported.

A pause takes her off new requests for the time she chooses (her open conversations stay) and
tells her when it is over; `/available` ends it sooner. The weekly question goes to every
supporter in good standing who was on duty or in a conversation that week, in her own weekly
hours (without any, the hours the bot may write first): outside them it waits for the next
moment inside. "heavy" and "I'd like to talk" open a talk with a coordinator (supporters/talk).
Only the answer is kept, never who gave it.

```mermaid
stateDiagram-v2
    state "any state (unchanged)" as any
    any --> any: /pause (how long? 1 day, 3 days, a week, two weeks)
    any --> any: a length chosen (paused until then; told when it is over)
    any --> any: weekly question due outside her hours (moved to the next moment inside them)
    any --> any: weekly question answered (ok / heavy / talk: a talk with a coordinator asked)
    any --> any: not a supporter (unknown command)
```
"""

from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flows.audit import audit
from flows.commands import unknown_command
from flows.context import FlowContext
from flows.conversation.lookups import send_with_choices
from flows.conversation.reach import next_reachable
from flows.events import Button, EventKind, InboundEvent, OutboundMessage
from flows.supporters.talk import ask_for_coordinator
from flows.weekly_hours import next_within_hours
from i18n import N_
from models import Feedback, Match, Participant, Role, ScheduledJob, SupporterProfile

NAME = "wellbeing"
PAUSE_DAYS = (1, 3, 7, 14)
ANSWERS = ("ok", "heavy", "talk")
ROUND_JOB = "supporter_weekly_round"  # plans one question per supporter, then the next round
CHECKIN_JOB = "supporter_weekly_checkin"
PAUSE_END_JOB = "supporter_pause_end"
PERSONAL_JOBS = (CHECKIN_JOB, PAUSE_END_JOB)  # each runs as the supporter it names
WEEK = timedelta(days=7)
# Built as f"wellbeing.pause_{days}" and f"wellbeing.weekly_reply_{answer}".
BUILT_TEXTS = (
    N_("wellbeing.pause_1"), N_("wellbeing.pause_3"), N_("wellbeing.pause_7"),
    N_("wellbeing.pause_14"), N_("wellbeing.weekly_reply_ok"),
    N_("wellbeing.weekly_reply_heavy"), N_("wellbeing.weekly_reply_talk"),
)  # fmt: skip


def week_of(now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"{year}w{week:02d}"


def is_paused(profile: SupporterProfile, now: datetime) -> bool:
    return profile.paused_until is not None and profile.paused_until > now


class WellbeingFlow:
    name = NAME

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        profile = await ctx.session.get(SupporterProfile, ctx.participant.id)
        if ctx.participant.role == Role.SEEKER or profile is None:
            return await unknown_command(ctx)
        if event.kind == EventKind.COMMAND:
            return self._ask_length(ctx)
        _, _, rest = (event.choice or "").partition(":")
        parts = rest.split(":")
        match parts:
            case ["pause", days] if days.isdigit() and int(days) in PAUSE_DAYS:
                return await self._pause(ctx, profile, int(days))
            case ["weekly", week, answer] if answer in ANSWERS:
                return await self._weekly_answer(ctx, week, answer)
        ctx.reply("relay.button_old")

    def _ask_length(self, ctx: FlowContext) -> None:
        buttons = [
            Button(f"wellbeing.pause_{days}", f"wellbeing:pause:{days}") for days in PAUSE_DAYS
        ]
        ctx.reply("wellbeing.pause_ask", buttons=buttons)

    async def _pause(self, ctx: FlowContext, profile: SupporterProfile, days: int) -> None:
        profile.paused_until = ctx.now + timedelta(days=days)
        who = f"participant:{ctx.participant.id}"
        audit(ctx.session, ctx.now, who, "supporter.pause", who, days=days)
        ctx.schedule(PAUSE_END_JOB, profile.paused_until, target_id=ctx.participant.id)
        until = profile.paused_until.astimezone(ZoneInfo(profile.timezone))
        ctx.reply("wellbeing.paused", until=until.strftime("%Y-%m-%d %H:%M"))

    async def _weekly_answer(self, ctx: FlowContext, week: str, answer: str) -> None:
        if (ctx.state.data or {}).get("weekly_answered") == week:
            ctx.reply("feedback.already")
            return
        ctx.remember(weekly_answered=week)
        ctx.session.add(Feedback(side="weekly", checkin=answer, created_at=ctx.now))
        if answer in ("heavy", "talk"):  # a coordinator is asked to talk with her
            await ask_for_coordinator(ctx, f"weekly_{answer}")
        ctx.reply(f"wellbeing.weekly_reply_{answer}")


async def pause_over(ctx: FlowContext, job: ScheduledJob) -> None:
    """The job at the end of a pause: she is told, unless she came back or paused again."""
    profile = await ctx.session.get(SupporterProfile, ctx.participant.id)
    if profile is None or profile.paused_until is None or profile.paused_until > ctx.now:
        return
    profile.paused_until = None
    ctx.reply("wellbeing.pause_over")


async def weekly_checkin(ctx: FlowContext, job: ScheduledJob) -> None:
    """One supporter's weekly question, if she is still one and supported someone this week;
    outside her hours it is moved to the next moment inside them (never dropped)."""
    me = ctx.participant
    profile = await ctx.session.get(SupporterProfile, me.id)
    if me.role != Role.SUPPORTER or profile is None or not profile.approved or profile.suspended:
        return
    week = str((job.payload or {}).get("week") or "")
    if not week:  # the round's own moment: did she support anyone this week?
        talked = (
            await ctx.session.execute(
                select(Match.id)
                .where(Match.supporter_id == me.id, Match.last_activity_at >= ctx.now - WEEK)
                .limit(1)
            )
        ).first()  # fmt: skip
        if talked is None and not profile.on_duty:
            return
        week = week_of(ctx.now)
    when = in_her_hours(me, profile, ctx.now, ctx.config)
    if when is None:
        return  # she said the bot should never write first
    if when > ctx.now:
        ctx.schedule(CHECKIN_JOB, when, target_id=me.id, week=week)
        return
    buttons = tuple(
        Button(f"feedback.checkin_{answer}", f"wellbeing:weekly:{week}:{answer}")
        for answer in ANSWERS
    )
    await send_with_choices(
        ctx, me, OutboundMessage("wellbeing.weekly_ask", {}, buttons, kind="checkin")
    )


def in_her_hours(
    me: Participant, profile: SupporterProfile, at: datetime, config: object
) -> datetime | None:
    """The first moment from `at` in her weekly hours (her time zone); with no hours of her
    own, in the hours the bot may write first (REACH_HOURS, or hers); None for "never"."""
    if profile.weekly_hours:
        return next_within_hours(profile.weekly_hours, profile.timezone, at)
    her = SimpleNamespace(timezone=me.timezone or profile.timezone, reach_hours=me.reach_hours)
    return next_reachable(her, at, config)  # type: ignore[arg-type]


def next_round(now: datetime, timezone: str) -> datetime:
    """Friday 17:00 where the programme is: the end of a week, before the weekend."""
    local = now.astimezone(ZoneInfo(timezone))
    friday = local.replace(hour=17, minute=0, second=0, microsecond=0) + timedelta(
        days=(4 - local.weekday()) % 7
    )
    return friday if friday > local else friday + WEEK


async def weekly_round(session: AsyncSession, job: ScheduledJob, now: datetime, *,
                       timezone: str) -> None:  # fmt: skip
    """The round job: one question job per supporter in good standing, then the next round."""
    ids = (
        await session.execute(
            select(SupporterProfile.participant_id).where(
                SupporterProfile.approved.is_(True), SupporterProfile.suspended.is_(False)
            )
        )
    ).scalars()
    session.add_all(ScheduledJob(kind=CHECKIN_JOB, target_id=i, due_at=now) for i in ids)
    await _plan_round(session, next_round(now + timedelta(minutes=1), timezone), besides=job.id)


async def _plan_round(
    session: AsyncSession, due_at: datetime, *, besides: int | None = None
) -> None:
    query = select(ScheduledJob.id).where(
        ScheduledJob.kind == ROUND_JOB, ScheduledJob.done_at.is_(None)
    )
    if besides is not None:
        query = query.where(ScheduledJob.id != besides)
    if (await session.execute(query.limit(1))).first() is None:
        session.add(ScheduledJob(kind=ROUND_JOB, due_at=due_at, payload={}))


async def ensure_round(session_factory: async_sessionmaker[AsyncSession], now: datetime,
                       timezone: str) -> None:  # fmt: skip
    """At start: the next weekly round is planned (idempotent across processes)."""
    async with session_factory() as session, session.begin():
        await _plan_round(session, next_round(now, timezone))
