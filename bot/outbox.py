"""The durable outbox sender: claims a batch under a lease, sends it concurrently across chats
(each chat in order), and records the answers in groups.

Pacing holds across processes because only one sender per channel sends at a time: it holds
the channel's row in `leases` (renewed while it works); the others stand by and take over when
that lease runs out, so the bot-wide and per-chat rates are one process's limiter.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import SystemClock
from bot.outbox_doubt import InFlightMarks, already_sent, mark_in_flight
from bot.outbox_results import Result, ResultRecorder, like, may_receive, unreachable_job
from bot.privacy import AddressVault
from bot.ratelimit import RateLimiter
from flows import metrics
from flows.context import held_back
from flows.events import Button, MediaRef
from handlers.base import (
    Channel,
    DeliveryError,
    RecipientUnreachable,
    RenderedButton,
    RenderedMessage,
    RetryLater,
)
from i18n import translate
from models import Lease, OutboxMessage, OutboxStatus, Participant
from models.db import insert_new

__all__ = ["OutboxSender", "render", "unreachable_job"]

log = logging.getLogger(__name__)

# A send whose slot is this close is waited for; a later one goes back to the queue.
MAX_INLINE_WAIT = 1.0
# The sender of a channel stops sending this long before its lease ends, so a successor
# starting at the lease's end keeps the per-chat spacing.
LEASE_MARGIN = timedelta(seconds=1.2)
# A send this much later than its slot shifts the rest of the round (below: jitter, ignored).
LATE_TOLERANCE = 0.005


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
    batch_size: int = 200
    concurrency: int = 32  # chats sent to at once
    sender_lease_seconds: float = 10.0
    worker_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _held_until: dict[str, Any] = field(default_factory=dict)
    _done: set[int] = field(default_factory=set)
    _stopping: bool = False
    _running: asyncio.Task[None] | None = None
    alive: bool = False

    def __post_init__(self) -> None:
        self.results = ResultRecorder(self.session_factory, self.limiter)

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self, idle_seconds: float = 0.5) -> None:
        self._running = asyncio.current_task()
        self.alive = True
        try:
            while not self._stopping:
                try:
                    handled = await self.run_once()
                except Exception:
                    log.exception("outbox round failed; retrying")
                    handled = 0
                if handled == 0 and not self._stopping:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=idle_seconds)
        finally:
            self.alive = False
            with contextlib.suppress(Exception):
                await self._resign()

    async def stop(self, grace: float = 10.0) -> None:
        """SIGTERM: send nothing new; what is in flight finishes and is recorded, the rest of
        the batch goes back to the queue, and the channel's sender lease is given up."""
        self._stopping = True
        self.wake()
        if self._running is not None and not self._running.done():
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._running), grace)
        with contextlib.suppress(Exception):
            await self._resign()

    async def run_once(self) -> int:
        """Claim a batch and try each row once; returns how many rows were handled."""
        channels = await self._elected()
        if not channels:
            return 0
        claimed = await self.claim(channels, self._round_size(channels))
        if not claimed:
            return 0
        rows = await self._load(claimed)
        unmarked = {row.id for row, _ in rows if row.attempted_at is None}
        renewing = asyncio.create_task(self._renew_leases(claimed))
        try:
            await self._send_all(rows)
        finally:
            renewing.cancel()
            await self.results.flush()
            await self._release_unsent(claimed, unmarked)
        return len(claimed)

    def _round_size(self, channels: list[str]) -> int:
        """About two seconds of sending at the channels' pace: no more rows are held at once."""
        policies = self.limiter.policies
        rates = [policies[c].per_second for c in channels if c in policies]
        if len(rates) < len(channels):
            return self.batch_size
        return max(1, min(self.batch_size, int(sum(rates) * 2)))

    async def claim(self, channels: list[str] | None = None, limit: int | None = None) -> list[int]:
        now = self.clock.now()
        async with self.session_factory() as session, session.begin():
            query = (
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                    OutboxMessage.available_at <= now,
                    or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
                    OutboxMessage.channel.in_(channels or list(self.channels)),
                )
                .order_by(OutboxMessage.available_at, OutboxMessage.id)
                .limit(limit or self.batch_size)
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

    async def _load(self, claimed: list[int]) -> list[tuple[OutboxMessage, Participant]]:
        """The claimed rows with their recipients, in one query."""
        async with self.session_factory() as session:
            query = (
                select(OutboxMessage, Participant)
                .join(Participant, Participant.id == OutboxMessage.participant_id)
                .where(OutboxMessage.id.in_(claimed))
                .order_by(OutboxMessage.id)
            )
            return [(row, person) for row, person in (await session.execute(query)).all()]

    async def _send_all(self, rows: list[tuple[OutboxMessage, Participant]]) -> None:
        """Reserve every row's slot first, then start each send at its slot, in slot order.

        Sends overlap (the API's latency is not the pace), yet one chat's rows go one after
        another, and a chat that was refused or must wait keeps the rest of hers back too.
        """
        now = self.clock.now()
        planned: list[tuple[float, int, OutboxMessage, Participant]] = []
        waiting: dict[int, Result] = {}
        for row, recipient in rows:
            if recipient.id in waiting:
                self._record(like(waiting[recipient.id], row))
                continue
            if not may_receive(recipient, row):
                self._record(self._result(row, dropped="recipient not active"))
                continue
            if held_back(recipient, row.kind):  # after her quick exit, whoever queued it
                self._record(self._result(row, held=True))
                continue
            now_s = now.timestamp()
            slot = self.limiter.earliest(row.channel, recipient.address_hash, now_s)
            # A chat that must wait for its own pace waits in the queue, not in the round:
            # reserving the bot-wide slot that far ahead would hold every other chat back.
            if slot - now_s > MAX_INLINE_WAIT or self.limiter.chat_bound(
                row.channel, recipient.address_hash, now_s
            ):
                waiting[recipient.id] = self._result(
                    row, later=now + timedelta(seconds=slot - now_s)
                )
                self._record(waiting[recipient.id])
                continue
            self.limiter.take(row.channel, recipient.address_hash, slot)
            planned.append((slot, row.id, row, recipient))
        planned.sort(key=lambda item: (item[0], item[1]))
        marks = InFlightMarks(self._mark, [(slot, row.id) for slot, _, row, _ in planned])
        gate = asyncio.Semaphore(self.concurrency)
        previous: dict[int, asyncio.Task[Result | None]] = {}
        tasks = []
        lag = 0.0
        for index, (slot, _, row, recipient) in enumerate(planned):
            if not await marks.ready(index):
                break  # unmarked rows are not sent: they go back to the queue
            wait = slot + lag - self.clock.now().timestamp()
            if wait > 0:
                await self.clock.sleep(wait)
            if self._stopping or not self._may_send(row.channel):
                break  # the rest stay claimed and go back to the queue at the end of the round
            await gate.acquire()
            late = self.clock.now().timestamp() - (slot + lag)
            if late > LATE_TOLERANCE:
                # A slow commit or a busy loop: every later send moves as much, never a burst
                # to catch up, and the lanes learn when this one really left.
                lag += late
                self.limiter.sent(row.channel, recipient.address_hash, slot + lag)
            task = asyncio.create_task(
                self._send_after(row, recipient, previous.get(recipient.id), gate)
            )
            previous[recipient.id] = task
            tasks.append(task)
            await asyncio.sleep(0)  # let it start at its slot, before the clock moves on
        await asyncio.gather(*tasks)
        await marks.settle()

    async def _mark(self, row_ids: list[int]) -> None:
        await mark_in_flight(self.session_factory, self.worker_id, row_ids, self.clock.now())

    async def _send_after(
        self,
        row: OutboxMessage,
        recipient: Participant,
        before: "asyncio.Task[Result | None] | None",
        gate: asyncio.Semaphore,
    ) -> Result | None:
        try:
            earlier = await before if before is not None else None
            if earlier is not None and (
                earlier.later is not None
                or isinstance(earlier.error, RecipientUnreachable | RetryLater)
            ):
                result = like(earlier, row)
            else:
                try:
                    result = await self._deliver(row, recipient)
                except Exception:
                    # One row that cannot even be prepared must not hold back everyone else's.
                    log.exception("outbox row %s could not be delivered", row.id)
                    result = self._result(row, error=DeliveryError("could not be prepared"))
            self._record(result)
            return result
        finally:
            gate.release()

    async def _deliver(self, row: OutboxMessage, recipient: Participant) -> Result:
        channel = self.channels[row.channel]
        address = self.vault.decrypt(recipient.channel, recipient.address_cipher)
        message = render(row, recipient.language)
        # Channels with a reply window (WhatsApp) decide by when she last wrote.
        message.extra["last_inbound_at"] = recipient.last_inbound_at
        source_id = (row.params or {}).get("_copy_from")
        if source_id is not None:
            # A copy of her own message: the source chat is looked up only now, so no
            # chat id is ever stored beside the words.
            async with self.session_factory() as session:
                source = await session.get(Participant, source_id)
            if source is not None and source.channel == row.channel:
                message.extra["copy_from_address"] = self.vault.decrypt(
                    source.channel, source.address_cipher
                )
        started, timer = self.clock.now(), time.perf_counter()
        try:
            found = None
            if row.attempted_at is not None and hasattr(channel, "find_sent"):
                # In doubt after a crash: asked first, so what reached her is not sent again.
                found = await already_sent(
                    self.session_factory, channel, address, message, row.attempted_at
                )
                metrics.messages_out.labels(row.channel, "in_doubt").inc()
            sent = found or await channel.send(address, message)
        except DeliveryError as error:
            return self._result(row, error=error)
        except Exception as error:  # a bug or an unexpected library error: retry later
            log.exception("unexpected error sending outbox row %s", row.id)
            return self._result(row, error=DeliveryError(type(error).__name__))
        finally:
            metrics.send_seconds.labels(row.channel).observe(time.perf_counter() - timer)
        metrics.messages_out.labels(row.channel, "sent").inc()
        result = self._result(row, sent=True, message_id=sent.channel_message_id)
        result.at = started  # when it left: pacing is measured at the start of each send
        return result

    def _result(self, row: OutboxMessage, **outcome: Any) -> Result:
        return Result(row.id, row.participant_id, row.channel, self.clock.now(), **outcome)

    def _record(self, result: Result) -> None:
        self._done.add(result.row_id)
        self.results.add(result)

    def _still_ours(self, row_ids: list[int]) -> tuple[Any, ...]:
        """Rows of these that this sender still holds: another may have taken them back."""
        return (
            OutboxMessage.id.in_(row_ids),
            OutboxMessage.claimed_by == self.worker_id,
            OutboxMessage.status == OutboxStatus.SENDING,
        )

    async def _release_unsent(self, claimed: list[int], unmarked: set[int]) -> None:
        """Rows of the round that were never tried go back to the queue at once (a mark this
        round gave them is taken off again: they were never sent)."""
        unsent = [row_id for row_id in claimed if row_id not in self._done]
        self._done.difference_update(claimed)
        if not unsent:
            return
        back = {
            "status": OutboxStatus.PENDING,
            "lease_until": None,
            "claimed_by": None,
            "attempts": OutboxMessage.attempts - 1,
        }
        async with self.session_factory() as session, session.begin():
            fresh = [row_id for row_id in unsent if row_id in unmarked]
            if fresh:
                await session.execute(
                    update(OutboxMessage)
                    .where(*self._still_ours(fresh))
                    .values(**back, attempted_at=None)
                )
            if len(fresh) < len(unsent):
                await session.execute(
                    update(OutboxMessage)
                    .where(*self._still_ours([r for r in unsent if r not in unmarked]))
                    .values(**back)
                )

    async def _renew_leases(self, claimed: list[int]) -> None:
        """While a round runs (slow API, long pacing), its rows stay ours."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                async with self.session_factory() as session, session.begin():
                    await session.execute(
                        update(OutboxMessage)
                        .where(*self._still_ours(claimed))
                        .values(
                            lease_until=self.clock.now() + timedelta(seconds=self.lease_seconds)
                        )
                    )
            except Exception:
                log.exception("outbox leases could not be renewed")

    # -- one sender per channel ------------------------------------------------------------

    def _may_send(self, channel: str) -> bool:
        until = self._held_until.get(channel)
        return until is not None and self.clock.now() < until - LEASE_MARGIN

    async def _elected(self) -> list[str]:
        """The channels this process sends on now; the lease is renewed a third of the way."""
        now = self.clock.now()
        fresh = timedelta(seconds=self.sender_lease_seconds * 2 / 3)
        if self.channels and all(
            name in self._held_until and self._held_until[name] - now > fresh
            for name in self.channels
        ):
            return list(self.channels)
        names = [f"sender:{name}" for name in self.channels]
        until = now + timedelta(seconds=self.sender_lease_seconds)
        async with self.session_factory() as session, session.begin():
            dialect = session.bind.dialect.name
            await session.execute(
                insert_new(dialect, Lease).values([{"name": name} for name in names])
            )
            taken = await session.execute(
                update(Lease)
                .where(
                    Lease.name.in_(names),
                    or_(Lease.holder.is_(None), Lease.holder == self.worker_id, Lease.until < now),
                )
                .values(holder=self.worker_id, until=until)
                .returning(Lease.name)
            )
            held = {name.split(":", 1)[1] for name in taken.scalars()}
        self._held_until = {name: until for name in held}
        return sorted(held)

    async def _resign(self) -> None:
        if not self._held_until:
            return
        names = [f"sender:{name}" for name in self._held_until]
        self._held_until = {}
        async with self.session_factory() as session, session.begin():
            await session.execute(
                update(Lease)
                .where(Lease.name.in_(names), Lease.holder == self.worker_id)
                .values(holder=None, until=None)
            )
