"""Inbound deliveries made durable in groups: the webhook answers only once its row is committed.

Many concurrent webhooks share one multi-row INSERT and one commit (the next group gathers while
one is being written), so durability costs one round trip per group, not per update.
"""

import asyncio
import contextlib
import logging
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import INBOUND_LANES, ProcessedInbound, utcnow
from models.db import insert_new

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One update as received: `chat` names its conversation only to choose its lane."""

    channel: str
    message_id: str
    chat: str
    payload: bytes


@dataclass(frozen=True)
class JournalEntry:
    """The journal row an event came from, so the router marks exactly that row processed."""

    channel: str
    message_id: str


class JournalUnavailable(Exception):
    """The group could not be committed: the webhook answers 503 and the platform retries."""


def lane_of(channel: str, chat: str) -> int:
    """A stable lane per chat (the same in every process), so her updates keep their order."""
    return zlib.crc32(f"{channel}:{chat}".encode()) % INBOUND_LANES


class InboundJournal:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        seal: Callable[[bytes], bytes],
        *,
        max_group: int = 500,
        on_committed: Callable[[], None] = lambda: None,
    ) -> None:
        self.session_factory = session_factory
        self.seal = seal
        self.max_group = max_group
        self.on_committed = on_committed
        self._waiting: list[tuple[Delivery, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._last_seq = 0
        self.groups = 0  # committed groups, for the benchmark's figures

    async def append(self, delivery: Delivery) -> bool:
        """Make one delivery durable; False when it was already known (a platform retry)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((delivery, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="inbound-journal")
        return await future

    async def close(self) -> None:
        """Let the group being written (and any waiting) finish, so no webhook hangs."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self._writer

    async def _write_all(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting[: self.max_group], self._waiting[self.max_group :]
            try:
                new = await self._write(group)
            except Exception:
                log.exception("a group of %d inbound updates could not be committed", len(group))
                for _, future in group:
                    if not future.done():
                        future.set_exception(JournalUnavailable())
                continue
            seen: set[tuple[str, str]] = set()
            for delivery, future in group:
                key = (delivery.channel, delivery.message_id)
                if not future.done():
                    future.set_result(key in new and key not in seen)
                seen.add(key)
            self.groups += 1
            self.on_committed()

    async def _write(self, group: list[tuple[Delivery, asyncio.Future[bool]]]) -> set:
        now = utcnow()
        rows, keys = [], set()
        for delivery, _ in group:
            key = (delivery.channel, delivery.message_id)
            if key in keys:
                continue  # the same update twice in one group: one row
            keys.add(key)
            rows.append(
                {
                    "channel": delivery.channel,
                    "message_id": delivery.message_id,
                    "received_at": now,
                    "lane": lane_of(delivery.channel, delivery.chat),
                    "seq": self._next_seq(),
                    "payload": self.seal(delivery.payload),
                }
            )
        async with self.session_factory() as session, session.begin():
            dialect = session.bind.dialect.name
            statement = (
                insert_new(dialect, ProcessedInbound)
                .values(rows)
                .returning(ProcessedInbound.channel, ProcessedInbound.message_id)
            )
            return {tuple(row) for row in (await session.execute(statement)).all()}

    def _next_seq(self) -> int:
        """Arrival order: microseconds since the epoch, strictly increasing in this process."""
        self._last_seq = max(self._last_seq + 1, time.time_ns() // 1000)
        return self._last_seq
