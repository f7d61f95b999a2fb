"""A coordinator's approval: who waits, finding her by alias, approving a finished profile.

Shared by the coordinator commands in the chat and the command line; she is told when approved.

```mermaid
stateDiagram-v2
    waiting --> ready: approved (/approve, the Approve button, peerline supporter approve)
    ready --> ready: approved again (nothing changes)
    writing --> writing: approval refused (profile unfinished)
```
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.audit import audit
from flows.context import outbox_row
from flows.events import OutboundMessage
from flows.supporters.profile import NAME, PROFILE_STEPS, Step
from models import FlowState, Participant, ParticipantStatus, Role, SupporterProfile


class Approval(StrEnum):
    APPROVED = "approved"
    ALREADY = "already"  # approved before: nothing changes
    UNFINISHED = "unfinished"  # her profile is not complete yet: nothing to approve
    NOT_A_SUPPORTER = "not_a_supporter"


async def profile_unfinished(session: AsyncSession, participant_id: int) -> bool:
    state = await session.get(FlowState, participant_id)
    return state is not None and state.flow == NAME and state.step in PROFILE_STEPS


async def pending_supporters(session: AsyncSession) -> list[Participant]:
    """Supporters who finished their profile and wait for a coordinator, oldest first."""
    query = (
        select(Participant)
        .join(SupporterProfile, SupporterProfile.participant_id == Participant.id)
        .outerjoin(FlowState, FlowState.participant_id == Participant.id)
        .where(
            Participant.role == Role.SUPPORTER,
            SupporterProfile.approved.is_(False),
            Participant.status == ParticipantStatus.ACTIVE,
        )  # fmt: skip
        .order_by(Participant.id)
    )
    found = list((await session.execute(query)).scalars())
    return [p for p in found if not await profile_unfinished(session, p.id)]


async def find_supporter(session: AsyncSession, alias: str) -> Participant | None:
    query = select(Participant).where(
        func.lower(Participant.alias) == alias.strip().lower(),
        Participant.role.in_((Role.SUPPORTER, Role.COORDINATOR)),
    )
    return (await session.execute(query)).scalars().first()


async def approve_supporter(
    session: AsyncSession, supporter: Participant, *, actor: str, now: datetime
) -> Approval:
    """Approve her and tell her, when her profile is complete and not yet approved."""
    profile = await session.get(SupporterProfile, supporter.id)
    if profile is None or supporter.role not in (Role.SUPPORTER, Role.COORDINATOR):
        return Approval.NOT_A_SUPPORTER
    if profile.approved:
        return Approval.ALREADY
    if await profile_unfinished(session, supporter.id):
        return Approval.UNFINISHED
    profile.approved, profile.approved_at = True, now
    state = await session.get(FlowState, supporter.id)
    if state is not None and state.flow == NAME and state.step == Step.WAITING:
        state.step, state.data = Step.READY, {}
    session.add(outbox_row(supporter, OutboundMessage("onboard.approved"), now))
    audit(session, now, actor, "supporter.approve", f"participant:{supporter.id}")
    return Approval.APPROVED
