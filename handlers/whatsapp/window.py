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
# Twilio's "outside the 24-hour window", said at once (a refused send) or later by status callback.
OUTSIDE_WINDOW_CODES = frozenset({63016})
# Row kinds that may go as a template when the window is closed.
TEMPLATE_KINDS = frozenset({"checkin", "broadcast"})
# A message Twilio took but later reported outside the window waits this long for her at most
# (as one refused at once does): then the sender drops it, words and all.
REQUEUED_WAIT = timedelta(days=7)


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


def wait_for_window(row: OutboxMessage) -> bool:
    """Twilio accepted the row, then said 63016 (outside the window): it waits for her next
    message as a refused send does, if its sealed words are still kept. False: they are gone."""
    if row.params is None:
        return False
    row.status = OutboxStatus.PENDING
    row.error = WAITING_FOR_WINDOW
    row.available_at = row.created_at + REQUEUED_WAIT
    row.channel_message_id = None  # later callbacks for that attempt find nothing
    row.sent_at = row.lease_until = None
    row.attempted_at = None  # a definite refusal: the next send is not in doubt
    return True
