"""Sends in doubt: every row is marked "in flight" (committed, with the time) just before its
call, so after a crash the rows that may or may not have reached the API are known exactly.

Marks go in groups: the rows whose slots fall within the next ~100 ms are marked in one
statement while the groups before them are being sent, so marking costs one commit per group
and holds a send back only when a commit takes longer than two groups' sending. A row keeps its
first mark until an answer is recorded, or until a definite refusal (a 429, a closed window)
puts it back in the queue.

After a restart a row still marked is "in doubt". Where the provider can be asked (Twilio lists
the messages sent to a number), the channel's `find_sent` is asked first and a message found is
recorded as sent, not sent again; where it cannot (Telegram), the row is sent again, and that
is the only way a recipient can get one message twice.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.base import SentMessage
from models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

MARK_AHEAD = 0.1  # seconds of slots marked in one statement
MARK_MOST = 64  # rows marked in one statement at most (limits lifted: all slots are "now")

MarkWriter = Callable[[list[int]], Awaitable[None]]


class InFlightMarks:
    """The marks of one round's planned sends, committed one group ahead of the sending."""

    def __init__(self, write: MarkWriter, planned: Sequence[tuple[float, int]]) -> None:
        self._write = write
        self._groups: list[list[int]] = []
        self._group_of: list[int] = []
        start = None
        for slot, row_id in planned:
            if start is None or slot >= start + MARK_AHEAD or len(self._groups[-1]) >= MARK_MOST:
                self._groups.append([])
                start = slot
            self._groups[-1].append(row_id)
            self._group_of.append(len(self._groups) - 1)
        self._tasks: dict[int, asyncio.Task[bool]] = {}

    async def ready(self, index: int) -> bool:
        """Whether the planned send at `index` is marked (False: do not send it now)."""
        group = self._group_of[index]
        self._start(group)
        for ahead in (1, 2):  # the next groups are marked while this one is being sent
            self._start(group + ahead)
        return await self._tasks[group]

    def _start(self, group: int) -> None:
        if group < len(self._groups) and group not in self._tasks:
            self._tasks[group] = asyncio.create_task(self._mark(self._groups[group]))

    async def _mark(self, row_ids: list[int]) -> bool:
        try:
            await self._write(row_ids)
            return True
        except Exception:
            log.exception("outbox rows could not be marked in flight; they wait")
            return False

    async def settle(self) -> None:
        """Marks started but not awaited (the round stopped early) finish before release."""
        for task in self._tasks.values():
            await asyncio.gather(task, return_exceptions=True)


async def mark_in_flight(
    session_factory: async_sessionmaker[AsyncSession], worker_id: str, row_ids: list[int], at: Any
) -> None:
    """The first attempt's time is kept: a provider is asked from then on."""
    async with session_factory() as session, session.begin():
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(row_ids),
                OutboxMessage.claimed_by == worker_id,
                OutboxMessage.status == OutboxStatus.SENDING,
            )
            .values(attempted_at=func.coalesce(OutboxMessage.attempted_at, at))
        )


async def already_sent(
    session_factory: async_sessionmaker[AsyncSession],
    channel: Any,
    address: str,
    message: Any,
    since: datetime,
) -> SentMessage | None:
    """The provider's record of this message if an earlier attempt reached it.

    The channel lists candidates (oldest first); one whose id is already recorded on another
    row is that row's message, not this one's.
    """
    candidates: list[SentMessage] = await channel.find_sent(address, message, since)
    ids = [c.channel_message_id for c in candidates if c.channel_message_id]
    if not ids:
        return None
    async with session_factory() as session:
        taken = set(
            (
                await session.execute(
                    select(OutboxMessage.channel_message_id).where(
                        OutboxMessage.channel_message_id.in_(ids)
                    )
                )
            ).scalars()
        )
    return next((c for c in candidates if c.channel_message_id not in taken), None)
