"""Scheduled conversation work: offer time-outs, unmatched alerts, request expiry, idle checks,
and reminders of a supporter's wish to talk with a coordinator.

Each job runs in its own transaction, as if the person it concerns had written, so flows use
their ordinary context to queue messages and move state.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.context import FlowContext
from flows.conversation import checkins, idle, lifecycle, matching, waiting
from flows.outreach import chat
from flows.supporters import talk, wellbeing
from models import (
    CoordinatorTalk,
    FlowState,
    HelpRequest,
    Match,
    Offer,
    Participant,
    ScheduledJob,
)

JobWork = Callable[[FlowContext, ScheduledJob], Awaitable[None]]


async def _context(
    session: AsyncSession, participant_id: int | None, now: datetime, config: Any, flows: Any
) -> FlowContext | None:
    """A context for the person a job concerns, her state locked as the router would lock it."""
    if participant_id is None:
        return None
    # Locked like the router locks the writer (her row, then her state), in the same order.
    participant = (
        await session.execute(
            select(Participant)
            .where(Participant.id == participant_id)
            .with_for_update(key_share=True)
        )
    ).scalar_one_or_none()
    if participant is None:
        return None
    state = (
        await session.execute(
            select(FlowState).where(FlowState.participant_id == participant_id).with_for_update()
        )
    ).scalar_one_or_none()
    if state is None:
        state = FlowState(participant_id=participant_id, flow="", step="", data={})
        session.add(state)
    return FlowContext(session, participant, state, now, config, flows)


async def _owner(session: AsyncSession, job: ScheduledJob) -> int | None:
    """Whose context a job runs in: the supporter of an offer, the seeker of a request/match."""
    if job.target_id is None:
        return None
    if job.kind == "offer_timeout":
        offer = await session.get(Offer, job.target_id)
        return offer.supporter_id if offer else None
    if job.kind in ("participant_unreachable", checkins.JOB, chat.JOB, *wellbeing.PERSONAL_JOBS):
        return job.target_id
    if job.kind == talk.REMINDER_JOB:
        asked = await session.get(CoordinatorTalk, job.target_id)
        return asked.supporter_id if asked else None
    if job.kind in ("unmatched_alert", "request_expiry", waiting.JOB):
        request = await session.get(HelpRequest, job.target_id)
        return request.seeker_id if request else None
    match = await session.get(Match, job.target_id)
    return match.seeker_id if match else None


def _asked_at(job: ScheduledJob) -> datetime:
    return datetime.fromisoformat(str((job.payload or {})["asked_at"]))


WORK: dict[str, JobWork] = {
    "offer_timeout": lambda ctx, job: matching.offer_timed_out(ctx, job.target_id or 0),
    "unmatched_alert": lambda ctx, job: matching.request_unmatched(ctx, job.target_id or 0),
    "request_expiry": lambda ctx, job: matching.request_expired(ctx, job.target_id or 0),
    "idle_check": lambda ctx, job: idle.idle_check(ctx, job.target_id or 0),
    "idle_close": lambda ctx, job: idle.idle_close(ctx, job.target_id or 0, _asked_at(job)),
    "participant_unreachable": lambda ctx, job: lifecycle.participant_unreachable(ctx),
    checkins.JOB: checkins.run_checkin,
    waiting.JOB: lambda ctx, job: waiting.waiting_update(ctx, job.target_id or 0),
    chat.JOB: chat.progress,
    wellbeing.CHECKIN_JOB: wellbeing.weekly_checkin,
    wellbeing.PAUSE_END_JOB: wellbeing.pause_over,
    talk.REMINDER_JOB: talk.remind,
}


def register_jobs(service: Any) -> None:
    """Register every conversation job on the service's runner."""
    config, flows = service.settings, service.router.routes.flows

    def handler(work: JobWork):  # type: ignore[no-untyped-def]
        async def run(session: AsyncSession, job: ScheduledJob, now: datetime) -> None:
            ctx = await _context(session, await _owner(session, job), now, config, flows)
            if ctx is not None:  # the person is gone (erased): nothing left to do
                await work(ctx, job)

        return run

    for kind, work in WORK.items():
        service.jobs.register(kind, handler(work))
