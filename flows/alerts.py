"""Alerts to coordinators: on-duty ones first, all of them when nobody is on duty.

An alert carries a reference number and a reason, never a name, number or her words.
"""

from typing import Any

from sqlalchemy import select

from flows.context import FlowContext
from flows.events import Button, OutboundMessage
from models import Participant, ParticipantStatus, Role, SupporterProfile


async def coordinators_to_alert(ctx: FlowContext) -> list[Participant]:
    query = (
        select(Participant, SupporterProfile.on_duty)
        .outerjoin(SupporterProfile, SupporterProfile.participant_id == Participant.id)
        .where(Participant.role == Role.COORDINATOR, Participant.status == ParticipantStatus.ACTIVE)
        .order_by(Participant.id)
    )
    rows = (await ctx.session.execute(query)).all()
    on_duty = [person for person, duty in rows if duty]
    return on_duty or [person for person, _ in rows]


async def alert_coordinators(
    ctx: FlowContext, text_id: str, *, buttons: tuple[Button, ...] = (), **params: Any
) -> int:
    """Queue an alert to the coordinators; returns how many were alerted."""
    recipients = await coordinators_to_alert(ctx)
    for coordinator in recipients:
        ctx.send(coordinator, OutboundMessage(text_id, params, buttons, kind="alert"))
    return len(recipients)
