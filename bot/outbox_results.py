"""What a send came to, written back in groups: the provider's answer is committed within
milliseconds, many rows in one statement, so a crash re-sends as little as possible."""

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, null, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.ratelimit import RateLimiter
from flows import metrics
from flows.events import NOTICE_KIND
from handlers.base import (
    WAITING_FOR_WINDOW,
    DeliveryError,
    OutsideWindow,
    PermanentFailure,
    RecipientUnreachable,
    RetryLater,
)
from models import OutboxMessage, OutboxStatus, Participant, ParticipantStatus, ScheduledJob

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Words waiting for her window are kept this long at most: she may never write again.
WINDOW_WAIT_AT_MOST = timedelta(days=7)

_table = OutboxMessage.__table__
# Channels that report delivery later (WhatsApp: Twilio's status callback): the sealed words stay
# until the final status, or a day at most (retention), so a later 63016 can wait for her.
_KEEPS_UNTIL_STATUS = _table.c.channel == "whatsapp"
_SENT = (
    update(_table)
    .where(_table.c.id == bindparam("b_id"))
    .values(
        status=OutboxStatus.SENT,
        channel_message_id=bindparam("b_message_id"),
        sent_at=bindparam("b_at"),
        params=case((_KEEPS_UNTIL_STATUS, _table.c.params), else_=null()),
        media=case((_KEEPS_UNTIL_STATUS, _table.c.media), else_=null()),
        lease_until=null(),
        error=null(),
    )
)
# Pacing is not a failed attempt: the claim's count is given back.
_LATER = (
    update(_table)
    .where(_table.c.id == bindparam("b_id"))
    .values(
        status=OutboxStatus.PENDING,
        available_at=bindparam("b_at"),
        lease_until=null(),
        attempts=_table.c.attempts - 1,
    )
)


# Kept back, words and all, after her quick exit until she asks to see it.
_HELD = (
    update(_table)
    .where(_table.c.id == bindparam("b_id"))
    .values(status=OutboxStatus.HELD, lease_until=null())
)


@dataclass
class Result:
    """One claimed row's outcome: sent (with the provider's id), waiting, dropped or failed."""

    row_id: int
    recipient_id: int
    channel: str
    at: datetime
    message_id: str | None = None
    sent: bool = False
    held: bool = False
    later: datetime | None = None
    dropped: str | None = None
    error: DeliveryError | None = None


class ResultRecorder:
    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], limiter: RateLimiter
    ) -> None:
        self.session_factory = session_factory
        self.limiter = limiter
        self._waiting: list[Result] = []
        self._writer: asyncio.Task[None] | None = None
        self.groups = 0

    def add(self, result: Result) -> None:
        self._waiting.append(result)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="outbox-results")

    async def flush(self) -> None:
        """Until every result handed in so far is committed."""
        while self._writer is not None and not self._writer.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(self._writer)

    async def _write_all(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            for attempt in range(3):
                try:
                    await self._write(group)
                    break
                except Exception:
                    log.exception("outbox results could not be recorded (attempt %d)", attempt + 1)
                    await asyncio.sleep(0.2 * (attempt + 1))
            self.groups += 1

    async def _write(self, group: list[Result]) -> None:
        async with self.session_factory() as session, session.begin():
            connection = await session.connection()
            sent = [
                {"b_id": r.row_id, "b_message_id": r.message_id, "b_at": r.at}
                for r in group
                if r.sent
            ]
            if sent:
                await connection.execute(_SENT, sent)
            later = [{"b_id": r.row_id, "b_at": r.later} for r in group if r.later is not None]
            if later:
                await connection.execute(_LATER, later)
            held = [{"b_id": r.row_id} for r in group if r.held]
            if held:
                await connection.execute(_HELD, held)
            for result in group:
                if result.dropped is not None or result.error is not None:
                    await self._settle(session, result)

    async def _settle(self, session: AsyncSession, result: Result) -> None:
        row = await session.get(OutboxMessage, result.row_id)
        recipient = await session.get(Participant, result.recipient_id)
        if row is None or recipient is None:
            return
        if result.dropped is not None:
            finish(row, OutboxStatus.DROPPED, result.dropped)
            metrics.messages_out.labels(row.channel, "dropped").inc()
        elif result.error is not None:
            await failed(session, row, recipient, result.error, result.at, self.limiter)


async def failed(
    session: AsyncSession,
    row: OutboxMessage,
    recipient: Participant,
    error: DeliveryError,
    now: datetime,
    limiter: RateLimiter,
) -> None:
    """A send that did not go through: wait, retry with back-off, stop her, or give up."""
    metrics.messages_out.labels(row.channel, error.code).inc()
    log.info("outbox row %s: %s", row.id, error.code)
    match error:
        case RetryLater(delay=delay):
            limiter.hold_recipient(row.channel, recipient.address_hash, now.timestamp() + delay)
            postpone(row, now + timedelta(seconds=delay), count=False)
        case RecipientUnreachable():
            finish(row, OutboxStatus.FAILED, error.code)
            recipient.status = ParticipantStatus.STOPPED
            session.add(unreachable_job(recipient.id, now))
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.participant_id == recipient.id,
                    OutboxMessage.status == OutboxStatus.PENDING,
                )
                .values(status=OutboxStatus.DROPPED, params=None, error="recipient stopped")
            )
        case OutsideWindow() if now - row.created_at >= WINDOW_WAIT_AT_MOST:
            finish(row, OutboxStatus.DROPPED, "her window never reopened")
        case OutsideWindow():
            # Waits, text kept, until she writes again (the channel reopens it then).
            postpone(row, now + timedelta(hours=1), count=False)
            row.error = WAITING_FOR_WINDOW
        case PermanentFailure():
            finish(row, OutboxStatus.FAILED, f"{error.code}: {error.detail}"[:120])
        case _:
            if row.attempts >= MAX_ATTEMPTS:
                finish(row, OutboxStatus.FAILED, f"gave up: {error.code}")
            else:
                postpone(row, now + timedelta(seconds=min(2**row.attempts, 300)), count=True)


def unreachable_job(participant_id: int, now: Any) -> ScheduledJob:
    """Her conversations are ended by a job (it has the flows' context) so nobody writes on."""
    return ScheduledJob(kind="participant_unreachable", target_id=participant_id, due_at=now)


def finish(row: OutboxMessage, status: OutboxStatus, error: str | None) -> None:
    """A row that is done keeps no words: parameters and media references are wiped."""
    row.status = status
    row.error = error
    row.params = None
    row.media = None
    row.lease_until = None


def postpone(row: OutboxMessage, when: Any, *, count: bool) -> None:
    row.status = OutboxStatus.PENDING
    row.available_at = when
    row.lease_until = None
    if not count:
        row.attempts -= 1  # pacing and rate limits are not failed attempts
        # A definite refusal (a 429, a closed window): it did not go out, so it is not in doubt.
        # A temporary failure (a timeout, a 5xx) may have reached the API and stays marked.
        row.attempted_at = None


def like(stop: Result, row: OutboxMessage) -> Result:
    """Her later rows in the same round wait with (or are dropped like) the one before them."""
    if isinstance(stop.error, RecipientUnreachable):
        return Result(row.id, row.participant_id, row.channel, stop.at, dropped="recipient stopped")
    later = stop.later
    if isinstance(stop.error, RetryLater):
        later = stop.at + timedelta(seconds=stop.error.delay)
    return Result(row.id, row.participant_id, row.channel, stop.at, later=later)


def may_receive(recipient: Participant, row: OutboxMessage) -> bool:
    """Active people get everything; a banned or erased one only the one notice meant for her."""
    if recipient.status == ParticipantStatus.ACTIVE:
        return True
    blocked_or_erased = (ParticipantStatus.BLOCKED, ParticipantStatus.ERASED)
    return row.kind == NOTICE_KIND and recipient.status in blocked_or_erased
