"""Retention beyond conversations: silent people are erased as by `/forget`, and marks, blocks,
audit lines and forgotten flow states go after their own number of days; each purge leaves only
a count.

A participant is silent when she has written nothing for `inactive_days` and has no open request
or conversation; coordinators and banned people are kept (a ban protects others). She is not
written to: a message after months of silence could expose her on a shared phone. A flow state
(where she stands in a flow, and what it remembers) is forgotten when neither she nor the bot
has touched it for `flow_state_days` and nothing of hers is open; her next message finds the
menu. Places the programme keeps (`kept_places`: a profile being written) are never forgotten.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.conversation.lookups import OPEN_MATCH, OPEN_REQUEST
from flows.safety.erasure import erase_rows
from models import (
    AuditEntry,
    FlowState,
    GuardMark,
    HelpRequest,
    Match,
    Participant,
    ParticipantBlock,
    ParticipantStatus,
    Role,
)
from models.stats import increment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ageing:
    """Days each kind of row is kept; 0 keeps it for ever."""

    inactive_days: int = 180
    guard_mark_days: int = 30
    block_days: int = 365
    audit_days: int = 730
    flow_state_days: int = 30
    # (flow, steps) whose states are a place kept, not one left behind.
    kept_places: tuple[tuple[str, tuple[str, ...]], ...] = ()


async def age_out(session: AsyncSession, now: datetime, policy: Ageing) -> dict[str, int]:
    counts = {"inactive": 0, "guard_marks": 0, "blocks": 0, "audit": 0, "flow_states": 0}
    if policy.inactive_days > 0:
        silent = await _silent(session, now - timedelta(days=policy.inactive_days))
        for person_id in silent:
            await erase_rows(session, person_id)
        counts["inactive"] = len(silent)
        # Nothing of theirs may be written back by the unit of work (the job's own row stays).
        for loaded in list(session.identity_map.values()):
            owner = loaded.id if isinstance(loaded, Participant) else None
            if (owner or getattr(loaded, "participant_id", None)) in silent:
                session.expunge(loaded)
    if policy.guard_mark_days > 0:
        old = now - timedelta(days=policy.guard_mark_days)
        counts["guard_marks"] = await _deleted(session, delete(GuardMark).where(
            *(or_(column.is_(None), column < old) for column in (
                GuardMark.flood_window_start, GuardMark.ban_notice_at, GuardMark.danger_notice_at
            ))
        ))  # fmt: skip
    if policy.block_days > 0:
        old = now - timedelta(days=policy.block_days)
        counts["blocks"] = await _deleted(
            session, delete(ParticipantBlock).where(ParticipantBlock.created_at < old)
        )
    if policy.audit_days > 0:
        old = now - timedelta(days=policy.audit_days)
        counts["audit"] = await _deleted(session, delete(AuditEntry).where(AuditEntry.at < old))
    if policy.flow_state_days > 0:
        counts["flow_states"] = await _forget_states(
            session, now - timedelta(days=policy.flow_state_days), policy.kept_places
        )
    for name, value in counts.items():
        if value:
            await increment(session, now.date(), f"purged.{name}", value)
    log.info("ageing: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


async def _silent(session: AsyncSession, cutoff: datetime) -> list[int]:
    """Seekers and supporters with nothing written since `cutoff` and nothing open."""
    open_request = select(HelpRequest.id).where(
        HelpRequest.seeker_id == Participant.id, HelpRequest.status.in_(OPEN_REQUEST)
    )
    open_match = select(Match.id).where(
        or_(Match.seeker_id == Participant.id, Match.supporter_id == Participant.id),
        Match.status.in_(OPEN_MATCH),
    )
    query = select(Participant.id).where(
        Participant.role.in_((Role.SEEKER, Role.SUPPORTER)),
        Participant.status.in_((ParticipantStatus.ACTIVE, ParticipantStatus.STOPPED)),
        func.coalesce(Participant.last_inbound_at, Participant.created_at) < cutoff,
        and_(~open_request.exists(), ~open_match.exists()),
    )
    return list((await session.execute(query)).scalars())


async def _forget_states(
    session: AsyncSession, cutoff: datetime, kept: tuple[tuple[str, tuple[str, ...]], ...]
) -> int:
    """States untouched since `cutoff` whose owner has written nothing since and has nothing
    open (a live conversation's state is never stale, however quiet)."""
    open_request = select(HelpRequest.id).where(
        HelpRequest.seeker_id == FlowState.participant_id, HelpRequest.status.in_(OPEN_REQUEST)
    )
    open_match = select(Match.id).where(
        or_(Match.seeker_id == FlowState.participant_id,
            Match.supporter_id == FlowState.participant_id),
        Match.status.in_(OPEN_MATCH),
    )  # fmt: skip
    wrote_since = select(Participant.id).where(
        Participant.id == FlowState.participant_id,
        func.coalesce(Participant.last_inbound_at, Participant.created_at) >= cutoff,
    )
    query = select(FlowState.participant_id).where(
        FlowState.updated_at < cutoff,
        ~wrote_since.exists(), ~open_request.exists(), ~open_match.exists(),
        *(~and_(FlowState.flow == flow, FlowState.step.in_(steps)) for flow, steps in kept),
    )  # fmt: skip
    stale = list((await session.execute(query)).scalars())
    if not stale:
        return 0
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, FlowState) and loaded.participant_id in stale:
            session.expunge(loaded)  # not written back by the unit of work
    return await _deleted(session, delete(FlowState).where(
        FlowState.participant_id.in_(stale), FlowState.updated_at < cutoff
    ))  # fmt: skip


async def _deleted(session: AsyncSession, statement: Any) -> int:
    return int((await session.execute(statement)).rowcount or 0)
