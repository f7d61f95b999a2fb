"""WhatsApp's 24-hour customer-service window: free text only while it is open.

The window opens each time she writes (the router sets `Participant.last_inbound_at`). Outside
it only an approved template may go; everything else waits, and is released when she writes.
"""

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.base import WAITING_FOR_WINDOW
from models import OutboxMessage, OutboxStatus

# A few minutes' margin: a message queued at 23:59 may reach Twilio after the window closed.
SAFETY_MARGIN = timedelta(minutes=5)
# Row kinds that may go as a template when the window is closed.
TEMPLATE_KINDS = frozenset({"checkin", "broadcast"})


def window_open(last_inbound_at: datetime | None, now: datetime, hours: float = 24.0) -> bool:
    if last_inbound_at is None:
        return False
    return now - last_inbound_at < timedelta(hours=hours) - SAFETY_MARGIN


async def release_waiting(session: AsyncSession, participant_id: int, now: datetime) -> int:
    """She wrote, so the window is open again: what waited for it becomes due now."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.participant_id == participant_id,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.error == WAITING_FOR_WINDOW,
        )
        .values(available_at=now, error=None)
    )
    return result.rowcount or 0
