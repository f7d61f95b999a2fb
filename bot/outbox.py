"""The durable outbox sender: claims rows under a lease, paces, sends, and records the result."""

import asyncio
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import SystemClock
from bot.privacy import AddressVault
from bot.ratelimit import RateLimiter
from flows import metrics
from flows.context import held_back
from flows.events import NOTICE_KIND, Button, MediaRef
from handlers.base import (
    WAITING_FOR_WINDOW,
    Channel,
    DeliveryError,
    OutsideWindow,
    PermanentFailure,
    RecipientUnreachable,
    RenderedButton,
    RenderedMessage,
    RetryLater,
)
from i18n import translate
from models import OutboxMessage, OutboxStatus, Participant, ParticipantStatus, ScheduledJob

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# A send whose slot is this close is waited for; a later one goes back to the queue.
MAX_INLINE_WAIT = 1.0
# Words waiting for her window are kept this long at most: she may never write again.
WINDOW_WAIT_AT_MOST = timedelta(days=7)


def render(row: OutboxMessage, language: str | None) -> RenderedMessage:
    """Turn a row into words in her language."""
    params = row.params or {}
    buttons = tuple(
        RenderedButton(translate(language, b.text_id, b.params), b.choice, b.url)
        for b in (Button.from_json(raw) for raw in row.buttons or [])
    )
    media = MediaRef(**row.media) if row.media else None
    return RenderedMessage(
        text=translate(language, row.text_id, params),
        buttons=buttons,
        media=media,
        language=language or "en",
        kind=row.kind,
        reply_to=params.get("_reply_to"),
        extra={k: v for k, v in params.items() if k.startswith("_")},
    )


@dataclass
class OutboxSender:
    session_factory: async_sessionmaker[AsyncSession]
    vault: AddressVault
    channels: Mapping[str, Channel]
    limiter: RateLimiter
    clock: Any = field(default_factory=SystemClock)
    lease_seconds: float = 30.0
    batch_size: int = 50
    worker_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    alive: bool = False

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self, idle_seconds: float = 0.5) -> None:
        self.alive = True
        try:
            while True:
                try:
                    handled = await self.run_once()
                except Exception:
                    log.exception("outbox round failed; retrying")
                    handled = 0
                if handled == 0:
                    self._wake.clear()
                    try:
                        await asyncio.wait_for(self._wake.wait(), timeout=idle_seconds)
                    except TimeoutError:
                        pass
        finally:
            self.alive = False

    async def run_once(self) -> int:
        """Claim a batch and try each row once; returns how many rows were handled."""
        claimed = await self.claim()
        for row_id in claimed:
            try:
                await self.deliver(row_id)
            except Exception:
                # One row that cannot even be prepared must not hold back everyone else's.
                log.exception("outbox row %s could not be delivered", row_id)
                await self._give_up_if_hopeless(row_id)
        return len(claimed)

    async def _give_up_if_hopeless(self, row_id: int) -> None:
        async with self.session_factory() as session, session.begin():
            row = await session.get(OutboxMessage, row_id)
            if (
                row is not None
                and row.claimed_by == self.worker_id
                and (row.attempts >= MAX_ATTEMPTS)
            ):
                _finish(row, OutboxStatus.FAILED, "could not be prepared")

    async def claim(self) -> list[int]:
        now = self.clock.now()
        async with self.session_factory() as session, session.begin():
            query = (
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                    OutboxMessage.available_at <= now,
                    or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
                    OutboxMessage.channel.in_(list(self.channels)),
                )
                .order_by(OutboxMessage.available_at, OutboxMessage.id)
                .limit(self.batch_size)
            )
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list((await session.execute(query)).scalars())
            if not ids:
                return []
            # The lease condition is repeated so that, without row locks (SQLite), a row
            # another worker claimed in between is not taken twice.
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(ids),
                    OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                    or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
                )
                .values(
                    status=OutboxStatus.SENDING,
                    lease_until=now + timedelta(seconds=self.lease_seconds),
                    claimed_by=self.worker_id,
                    attempts=OutboxMessage.attempts + 1,
                )
                .returning(OutboxMessage.id)
            )
            return sorted(result.scalars())

    async def deliver(self, row_id: int) -> None:
        async with self.session_factory() as session, session.begin():
            row = await session.get(OutboxMessage, row_id)
            if (
                row is None
                or row.claimed_by != self.worker_id
                or row.status != OutboxStatus.SENDING
            ):
                return
            recipient = await session.get(Participant, row.participant_id)
            if recipient is None or not _may_receive(recipient, row):
                _finish(row, OutboxStatus.DROPPED, "recipient not active")
                metrics.messages_out.labels(row.channel, "dropped").inc()
                return
            if held_back(recipient, row.kind):  # after her quick exit, whoever queued it
                row.status, row.lease_until = OutboxStatus.HELD, None
                return
            channel = self.channels[row.channel]
            address = self.vault.decrypt(recipient.channel, recipient.address_cipher)
            now_s = self.clock.now().timestamp()
            slot = self.limiter.earliest(row.channel, recipient.address_hash, now_s)
            if slot - now_s > MAX_INLINE_WAIT:
                _postpone(row, self.clock.now() + timedelta(seconds=slot - now_s), count=False)
                return
            if slot > now_s:
                await self.clock.sleep(slot - now_s)
            self.limiter.take(row.channel, recipient.address_hash, self.clock.now().timestamp())
            message = render(row, recipient.language)
            # Channels with a reply window (WhatsApp) decide by when she last wrote.
            message.extra["last_inbound_at"] = recipient.last_inbound_at
            source_id = (row.params or {}).get("_copy_from")
            if source_id is not None:
                # A copy of her own message: the source chat is looked up only now, so no
                # chat id is ever stored beside the words.
                source = await session.get(Participant, source_id)
                if source is not None and source.channel == row.channel:
                    message.extra["copy_from_address"] = self.vault.decrypt(
                        source.channel, source.address_cipher
                    )
            try:
                sent = await channel.send(address, message)
            except DeliveryError as error:
                await self._failed(session, row, recipient, error)
                return
            except Exception as error:  # a bug or an unexpected library error: retry later
                log.exception("unexpected error sending outbox row %s", row.id)
                await self._failed(session, row, recipient, DeliveryError(type(error).__name__))
                return
            row.channel_message_id = sent.channel_message_id
            row.sent_at = self.clock.now()
            _finish(row, OutboxStatus.SENT, None)
            metrics.messages_out.labels(row.channel, "sent").inc()

    async def _failed(
        self,
        session: AsyncSession,
        row: OutboxMessage,
        recipient: Participant,
        error: DeliveryError,
    ) -> None:
        metrics.messages_out.labels(row.channel, error.code).inc()
        log.info("outbox row %s: %s", row.id, error.code)
        now = self.clock.now()
        match error:
            case RetryLater(delay=delay):
                self.limiter.hold_recipient(
                    row.channel, recipient.address_hash, now.timestamp() + delay
                )
                _postpone(row, now + timedelta(seconds=delay), count=False)
            case RecipientUnreachable():
                _finish(row, OutboxStatus.FAILED, error.code)
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
                _finish(row, OutboxStatus.DROPPED, "her window never reopened")
            case OutsideWindow():
                # Waits, text kept, until she writes again (the channel reopens it then).
                _postpone(row, now + timedelta(hours=1), count=False)
                row.error = WAITING_FOR_WINDOW
            case PermanentFailure():
                _finish(row, OutboxStatus.FAILED, f"{error.code}: {error.detail}"[:120])
            case _:
                if row.attempts >= MAX_ATTEMPTS:
                    _finish(row, OutboxStatus.FAILED, f"gave up: {error.code}")
                else:
                    _postpone(row, now + timedelta(seconds=min(2**row.attempts, 300)), count=True)


def _may_receive(recipient: Participant, row: OutboxMessage) -> bool:
    """Active people get everything; a banned or erased one only the one notice meant for her."""
    if recipient.status == ParticipantStatus.ACTIVE:
        return True
    blocked_or_erased = (ParticipantStatus.BLOCKED, ParticipantStatus.ERASED)
    return row.kind == NOTICE_KIND and recipient.status in blocked_or_erased


def unreachable_job(participant_id: int, now: Any) -> ScheduledJob:
    """Her conversations are ended by a job (it has the flows' context) so nobody writes on."""
    return ScheduledJob(kind="participant_unreachable", target_id=participant_id, due_at=now)


def _finish(row: OutboxMessage, status: OutboxStatus, error: str | None) -> None:
    """A row that is done keeps no words: parameters and media references are wiped."""
    row.status = status
    row.error = error
    row.params = None
    row.media = None
    row.lease_until = None


def _postpone(row: OutboxMessage, when: Any, *, count: bool) -> None:
    row.status = OutboxStatus.PENDING
    row.available_at = when
    row.lease_until = None
    if not count:
        row.attempts -= 1  # pacing and rate limits are not failed attempts
