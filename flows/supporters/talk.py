"""A supporter talks with a coordinator: both by alias, through the same relay as conversations.

She asks (`/coordinator`, or "heavy" / "I'd like to talk" after a conversation or in the weekly
check-in); the coordinators on duty are asked, or every coordinator when none is, and the first
to accept takes it (the others are told it is taken). If nobody has taken it after
`TALK_REMINDER_MINUTES`, every coordinator is reminded. While it is open, what either writes
goes to the other, contacts masked; either ends it with `/end` and goes back to where she was.
Nothing of it reaches a woman she supports. Asking, accepting and ending are audited.

```mermaid
stateDiagram-v2
    [*] --> waiting: she asks (coordinators on duty asked, else all; a reminder planned)
    waiting --> waiting: asked again (told it is on its way)
    open --> open: /coordinator again (her words go to the talk again, e.g. after /switch)
    waiting --> waiting: nobody took it in time (every coordinator reminded)
    waiting --> open: a coordinator accepts (both moved into the talk; the others told)
    open --> open: either writes (copied to the other under her alias)
    open --> ended: /end by either (both back where they were)
    waiting --> [*]: a second accept (told it is taken)
```
"""

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from flows.alerts import coordinators_to_alert
from flows.audit import audit
from flows.commands import unknown_command
from flows.context import FlowContext
from flows.conversation.delivery import deliver, kept_item, masking
from flows.conversation.lookups import send_with_choices
from flows.conversation.masking import mask_contacts
from flows.detour import come_back, step_aside
from flows.events import Button, EventKind, InboundEvent, OutboundMessage, msgid
from i18n import N_
from models import (
    CoordinatorTalk,
    FlowState,
    Participant,
    ParticipantStatus,
    Role,
    ScheduledJob,
    TalkStatus,
)

NAME = "talk"
OPEN = "open"
REMINDER_JOB = "talk_reminder"
OPEN_TALK = (TalkStatus.WAITING, TalkStatus.OPEN)
REASON_TEXTS = (N_("talk.reason_weekly"), N_("talk.reason_after"))


def reason_param(reason: str, ref: Any = None) -> dict[str, Any]:
    """Why she asked, for the coordinators: her answer, and where she gave it."""
    kind, _, answer = reason.partition("_")
    said = {"msgid": f"feedback.checkin_{answer}"}
    if kind == "weekly":
        return {"msgid": REASON_TEXTS[0], "params": {"answer": said}}
    if kind == "checkin":
        return {"msgid": REASON_TEXTS[1], "params": {"answer": said, "ref": ref or "–"}}
    return msgid("talk.reason_asked")


async def open_talk_of(ctx: FlowContext, supporter_id: int) -> CoordinatorTalk | None:
    return (
        await ctx.session.execute(
            select(CoordinatorTalk)
            .where(CoordinatorTalk.supporter_id == supporter_id,
                   CoordinatorTalk.status.in_(OPEN_TALK))
            .order_by(CoordinatorTalk.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()  # fmt: skip


async def ask_for_coordinator(ctx: FlowContext, reason: str, ref: Any = None) -> str:
    """Open her wish to talk; returns "asked", or the status of the one she already has."""
    me = ctx.participant
    existing = await open_talk_of(ctx, me.id)
    if existing is not None:
        return existing.status
    recipients = await coordinators_to_alert(ctx)
    talk = CoordinatorTalk(supporter_id=me.id, reason=reason, alerted=[c.id for c in recipients],
                           created_at=ctx.now, last_activity_at=ctx.now)  # fmt: skip
    ctx.session.add(talk)
    await ctx.session.flush()
    why = reason_param(reason, ref)
    for coordinator in recipients:
        await _ask(ctx, coordinator, talk, "talk.alert", alias=me.alias, reason=why)
    minutes = float(getattr(ctx.config, "talk_reminder_minutes", 15))
    ctx.schedule(REMINDER_JOB, ctx.now + timedelta(minutes=minutes), talk.id, ref=ref)
    audit(ctx.session, ctx.now, f"participant:{me.id}", "talk.ask", f"talk:{talk.id}",
          reason=reason)  # fmt: skip
    return "asked"


async def _ask(ctx: FlowContext, coordinator: Participant, talk: CoordinatorTalk, text_id: str,
               **params: Any) -> None:  # fmt: skip
    button = Button("talk.button_accept", f"talk:accept:{talk.id}")
    await send_with_choices(ctx, coordinator,
                            OutboundMessage(text_id, params, (button,), kind="alert"))  # fmt: skip


async def remind(ctx: FlowContext, job: ScheduledJob) -> None:
    """The reminder job, run as the supporter: still not taken, so every coordinator is asked."""
    talk = await ctx.session.get(CoordinatorTalk, job.target_id or 0)
    if talk is None or talk.status != TalkStatus.WAITING:
        return
    everyone = (
        await ctx.session.execute(
            select(Participant)
            .where(Participant.role == Role.COORDINATOR,
                   Participant.status == ParticipantStatus.ACTIVE)
            .order_by(Participant.id)
        )
    ).scalars().all()  # fmt: skip
    minutes = int((ctx.now - talk.created_at).total_seconds() // 60)
    why = reason_param(talk.reason, (job.payload or {}).get("ref"))
    for coordinator in everyone:
        await _ask(ctx, coordinator, talk, "talk.reminder", alias=ctx.participant.alias,
                   minutes=minutes, reason=why)  # fmt: skip
    talk.alerted = sorted({*talk.alerted, *(c.id for c in everyone)})


class TalkFlow:
    name = NAME
    own_commands = ("end",)  # in a talk, /end ends the talk, not a conversation

    async def handle(self, ctx: FlowContext, event: InboundEvent) -> None:
        if event.kind == EventKind.COMMAND:
            if event.command == "coordinator":
                return await self._asked(ctx)
            if event.command == "end" and ctx.state.flow == NAME:
                return await self._end(ctx)
            return await unknown_command(ctx)
        if event.choice:
            what, _, target = event.choice.removeprefix("talk:").partition(":")
            if what == "accept" and target.isdigit():
                return await self._accept(ctx, int(target))
            return ctx.reply("relay.button_old")
        await self._message(ctx, event)

    async def ask(self, ctx: FlowContext, reason: str, ref: Any = None) -> str:
        """For flows that cannot import this one (a check-in answer): see ask_for_coordinator."""
        return await ask_for_coordinator(ctx, reason, ref)

    async def _asked(self, ctx: FlowContext) -> None:
        me = ctx.participant
        if me.role != Role.SUPPORTER:
            return await unknown_command(ctx)
        status = await ask_for_coordinator(ctx, "asked")
        if status == TalkStatus.OPEN:
            talk = await open_talk_of(ctx, me.id)
            other = await ctx.session.get(Participant, talk.coordinator_id or 0) if talk else None
            if talk is not None:  # back into it (after /switch, or a conversation she took)
                _into_talk(ctx, talk.id)
            return ctx.reply("talk.already_open", alias=other.alias if other else "–")
        ctx.reply("talk.requested" if status == "asked" else "talk.already_waiting")

    async def _accept(self, ctx: FlowContext, talk_id: int) -> None:
        me = ctx.participant
        if me.role != Role.COORDINATOR:
            return ctx.reply("relay.button_old")
        done = await ctx.session.execute(
            update(CoordinatorTalk)
            .where(CoordinatorTalk.id == talk_id, CoordinatorTalk.status == TalkStatus.WAITING)
            .values(
                status=TalkStatus.OPEN,
                coordinator_id=me.id,
                accepted_at=ctx.now,
                last_activity_at=ctx.now,
            )  # fmt: skip
        )
        if done.rowcount != 1:
            return ctx.reply("talk.already_taken")
        talk = await ctx.session.get(CoordinatorTalk, talk_id, populate_existing=True)
        assert talk is not None
        supporter = await ctx.session.get(Participant, talk.supporter_id)
        assert supporter is not None
        audit(ctx.session, ctx.now, f"participant:{me.id}", "talk.accept",
              f"participant:{supporter.id}", talk=talk.id)  # fmt: skip
        _into_talk(ctx, talk.id)
        ctx.reply("talk.you_accepted", alias=supporter.alias)
        ctx.send(supporter, OutboundMessage("talk.coordinator_here", {"alias": me.alias}))
        await _move(ctx, supporter.id, talk.id, into=True)
        for other_id in talk.alerted:
            other = await ctx.session.get(Participant, other_id)
            if other is not None and other.id != me.id:
                taken = {"by": me.alias, "alias": supporter.alias}
                ctx.send(other, OutboundMessage("talk.taken", taken))

    async def _current(self, ctx: FlowContext) -> CoordinatorTalk | None:
        talk_id = (ctx.state.data or {}).get("talk_id")
        talk = await ctx.session.get(CoordinatorTalk, talk_id) if isinstance(talk_id, int) else None
        me = ctx.participant.id
        if talk is None or talk.status != TalkStatus.OPEN:
            return None
        return talk if me in (talk.supporter_id, talk.coordinator_id) else None

    async def _message(self, ctx: FlowContext, event: InboundEvent) -> None:
        talk = await self._current(ctx)
        other = await _other(ctx, talk) if talk is not None else None
        if talk is None or other is None:
            if talk is not None:
                await self._close(ctx, talk, by="system")
            ctx.reply("talk.over")
            return await come_back(ctx, NAME)
        me = ctx.participant
        if "choices" in (ctx.state.data or {}):  # a later "1" is her words, not a choice
            ctx.state.data = {k: v for k, v in ctx.state.data.items() if k != "choices"}
        if event.kind == EventKind.UNSUPPORTED:
            return ctx.reply("relay.unsupported")
        if event.kind == EventKind.EDIT:
            talk.last_activity_at = ctx.now
            text = event.text or ""
            if masking(ctx):
                text = mask_contacts(text).text
            ctx.send(other, OutboundMessage("relay.edited", {"alias": me.alias, "text": text},
                                            kind="relay"))  # fmt: skip
            return
        await deliver(ctx, talk, me, other, kept_item(event))

    async def _end(self, ctx: FlowContext) -> None:
        talk = await self._current(ctx)
        if talk is None:
            ctx.reply("talk.over")
            return await come_back(ctx, NAME)
        me = ctx.participant
        other = await _other(ctx, talk)
        side = "coordinator" if me.id == talk.coordinator_id else "supporter"
        await self._close(ctx, talk, by=side)
        ctx.reply("talk.you_ended", alias=other.alias if other else "–")
        if other is not None:
            ctx.send(other, OutboundMessage("talk.other_ended", {"alias": me.alias}))
            await _move(ctx, other.id, talk.id, into=False)
        await _leave(ctx)

    async def _close(self, ctx: FlowContext, talk: CoordinatorTalk, *, by: str) -> None:
        talk.status, talk.ended_at, talk.ended_by = TalkStatus.ENDED, ctx.now, by
        audit(ctx.session, ctx.now, f"participant:{ctx.participant.id}", "talk.end",
              f"talk:{talk.id}", by=by)  # fmt: skip


async def _other(ctx: FlowContext, talk: CoordinatorTalk) -> Participant | None:
    me = ctx.participant.id
    other_id = talk.coordinator_id if me == talk.supporter_id else talk.supporter_id
    other = await ctx.session.get(Participant, other_id) if other_id is not None else None
    return other if other is not None and other.status == ParticipantStatus.ACTIVE else None


def _into_talk(ctx: FlowContext, talk_id: int) -> None:
    if ctx.state.flow == NAME:  # a coordinator taking a second talk: where she was stays kept
        ctx.remember(talk_id=talk_id)
    else:
        step_aside(ctx, NAME, OPEN, talk_id=talk_id)


async def _leave(ctx: FlowContext) -> None:
    """After her talk: a coordinator with another talk open writes to that one, else back."""
    me = ctx.participant
    if me.role == Role.COORDINATOR:
        other = (
            await ctx.session.execute(
                select(CoordinatorTalk)
                .where(CoordinatorTalk.coordinator_id == me.id,
                       CoordinatorTalk.status == TalkStatus.OPEN)
                .order_by(CoordinatorTalk.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()  # fmt: skip
        supporter = await ctx.session.get(Participant, other.supporter_id) if other else None
        if other is not None and supporter is not None:
            ctx.remember(talk_id=other.id)
            return ctx.reply("talk.now_with", alias=supporter.alias)
    await come_back(ctx, NAME)


async def _move(ctx: FlowContext, participant_id: int, talk_id: int, *, into: bool) -> None:
    """The other side's state follows: into the talk (where she was kept), or back from it.

    Her state is waited for (not skipped): her next words must go where she was told they go."""
    state = (
        await ctx.session.execute(
            select(FlowState)
            .where(FlowState.participant_id == participant_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if state is None:
        if into:
            ctx.session.add(FlowState(participant_id=participant_id, flow=NAME, step=OPEN,
                                      data={"talk_id": talk_id}))  # fmt: skip
        return
    data = dict(state.data or {})
    if into:
        if state.flow == NAME:
            state.data = {**data, "talk_id": talk_id}
            return
        kept = {k: v for k, v in data.items() if k != "choices"}
        back = {"flow": state.flow, "step": state.step, "data": kept}
        state.flow, state.step, state.data = NAME, OPEN, {"talk_id": talk_id, "back": back}
        return
    if state.flow != NAME or data.get("talk_id") != talk_id:
        return
    still = (
        await ctx.session.execute(
            select(CoordinatorTalk.id)
            .where(CoordinatorTalk.coordinator_id == participant_id,
                   CoordinatorTalk.status == TalkStatus.OPEN, CoordinatorTalk.id != talk_id)
            .order_by(CoordinatorTalk.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()  # fmt: skip
    if still is not None:  # a coordinator's other talk: her words go there now
        state.data = {**data, "talk_id": still}
        return
    back = data.get("back")
    if isinstance(back, dict) and back.get("flow") and back["flow"] != NAME:
        state.flow, state.step, state.data = (
            back["flow"],
            back.get("step") or "",
            back.get("data") or {},
        )
    else:
        state.flow, state.step, state.data = "intake", "menu", {}
