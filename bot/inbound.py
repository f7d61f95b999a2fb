"""Processes the inbound journal: any process claims lanes, each lane's updates in order.

A lane (a hash of the chat) is held by one process at a time under a lease in the `leases`
table, so one woman's updates are handled one after another even with several web processes,
while different lanes run side by side. A process that dies leaves its lanes to the others
once the lease runs out; each update is marked processed in its own transaction, so it acts once.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.journal import JournalEntry
from models import INBOUND_LANES, Lease, ProcessedInbound, utcnow
from models.db import insert_new

log = logging.getLogger(__name__)

Processor = Callable[[bytes, JournalEntry], Awaitable[None]]
ROWS_PER_READ = 100


def lane_name(lane: int) -> str:
    return f"inbound:{lane}"


@dataclass
class InboundProcessor:
    session_factory: async_sessionmaker[AsyncSession]
    unseal: Callable[[bytes], bytes]
    processors: Mapping[str, Processor]
    lease_seconds: float = 30.0
    concurrency: int = 8
    holder: str = field(default_factory=lambda: f"inbound-{uuid.uuid4().hex[:12]}")
    # For the lane reads, which write nothing (models.db.make_read_factory); else the above.
    read_factory: async_sessionmaker[AsyncSession] | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _lanes: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None
    _stopping: bool = False

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self.run_forever(), name="inbound")

    async def stop(self, grace: float = 5.0) -> None:
        """Stop claiming; let the updates in hand finish (or roll back), then free the lanes."""
        self._stopping = True
        if self._task is not None:
            # Not cancelled mid-claim: a claim committed but cancelled before its lanes were
            # started would hold them, unworked, until the lease ran out.
            self.wake()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), grace)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        lanes = list(self._lanes.values())
        if lanes:
            _, late = await asyncio.wait(lanes, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*lanes, return_exceptions=True)
        self._lanes.clear()
        # A lane cancelled after the grace may not have given its lease back: all of this
        # process's go back at once, so another process takes them now, not when they expire.
        with contextlib.suppress(Exception):
            async with self.session_factory() as session, session.begin():
                await session.execute(
                    update(Lease).where(Lease.holder == self.holder).values(holder=None, until=None)
                )

    async def run_forever(self, idle_seconds: float = 0.5) -> None:
        lanes_ready = False
        while not self._stopping:
            self._wake.clear()
            try:
                if not lanes_ready:
                    await self._ensure_lanes()
                    lanes_ready = True
                await self.claim()
            except Exception:
                log.exception("inbound lanes could not be claimed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=idle_seconds)

    async def claim(self) -> list[int]:
        """Take the free lanes that have updates waiting, up to this process's concurrency."""
        room = self.concurrency - len(self._lanes)
        if room <= 0 or self._stopping:
            return []
        async with self.session_factory() as session, session.begin():
            waiting = select(ProcessedInbound.lane).where(ProcessedInbound.payload.is_not(None))
            lanes = [
                lane
                for lane in (await session.execute(waiting.distinct())).scalars()
                if lane is not None and lane not in self._lanes
            ][:room]
            if not lanes:
                return []
            now = utcnow()
            taken = await session.execute(
                update(Lease)
                .where(
                    Lease.name.in_([lane_name(lane) for lane in lanes]),
                    or_(Lease.holder.is_(None), Lease.until < now),
                )
                .values(holder=self.holder, until=now + timedelta(seconds=self.lease_seconds))
                .returning(Lease.name)
            )
            claimed = [int(name.split(":")[1]) for name in taken.scalars()]
        for lane in claimed:
            self._lanes[lane] = asyncio.create_task(self._drain(lane), name=f"inbound-{lane}")
        return claimed

    async def _drain(self, lane: int) -> None:
        try:
            renew_at = asyncio.get_running_loop().time() + self.lease_seconds / 3
            while not self._stopping:
                rows = await self._read(lane)
                if not rows:
                    return
                for channel, message_id, payload in rows:
                    if asyncio.get_running_loop().time() >= renew_at:
                        if not await self._renew(lane):
                            return  # we stalled past the lease and someone else has the lane
                        renew_at = asyncio.get_running_loop().time() + self.lease_seconds / 3
                    await self._process(channel, message_id, payload)
                    if self._stopping:
                        return
        except Exception:
            log.exception("inbound lane %d stopped; it is retried", lane)
        finally:
            self._lanes.pop(lane, None)
            with contextlib.suppress(Exception):
                await self._release(lane)
            self.wake()  # an update may have arrived for this lane while we held it

    async def _process(self, channel: str, message_id: str, payload: bytes) -> None:
        entry = JournalEntry(channel, message_id)
        processor = self.processors.get(channel)
        if processor is None:
            log.error("no channel %s here to process its updates", channel)
            await self.drop(entry)
            return
        try:
            await processor(self.unseal(payload), entry)
        except Exception:
            # A bug in reading one update must not hold back the rest of her lane forever.
            log.exception("an inbound %s update could not be processed; dropped", channel)
            await self.drop(entry)

    async def drop(self, entry: JournalEntry) -> None:
        async with self.session_factory() as session, session.begin():
            await session.execute(
                update(ProcessedInbound)
                .where(
                    ProcessedInbound.channel == entry.channel,
                    ProcessedInbound.message_id == entry.message_id,
                )
                .values(payload=None)
            )

    async def _read(self, lane: int) -> list[tuple[str, str, bytes]]:
        async with (self.read_factory or self.session_factory)() as session:
            query = (
                select(
                    ProcessedInbound.channel, ProcessedInbound.message_id, ProcessedInbound.payload
                )
                .where(ProcessedInbound.lane == lane, ProcessedInbound.payload.is_not(None))
                .order_by(ProcessedInbound.seq)
                .limit(ROWS_PER_READ)
            )
            return [tuple(row) for row in (await session.execute(query)).all()]  # type: ignore[misc]

    async def _renew(self, lane: int) -> bool:
        async with self.session_factory() as session, session.begin():
            result = await session.execute(
                update(Lease)
                .where(Lease.name == lane_name(lane), Lease.holder == self.holder)
                .values(until=utcnow() + timedelta(seconds=self.lease_seconds))
            )
            return result.rowcount == 1

    async def _release(self, lane: int) -> None:
        async with self.session_factory() as session, session.begin():
            await session.execute(
                update(Lease)
                .where(Lease.name == lane_name(lane), Lease.holder == self.holder)
                .values(holder=None, until=None)
            )

    async def _ensure_lanes(self) -> None:
        async with self.session_factory() as session, session.begin():
            dialect = session.bind.dialect.name
            await session.execute(
                insert_new(dialect, Lease).values(
                    [{"name": lane_name(lane)} for lane in range(INBOUND_LANES)]
                )
            )

    async def pending(self) -> int:
        async with self.session_factory() as session:
            query = select(func.count()).where(ProcessedInbound.payload.is_not(None))
            return int((await session.execute(query)).scalar_one())

    async def idle(self, within: float = 120.0) -> None:
        """Wait until every update in the journal has been processed (tests, benchmarks)."""
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            if not self._lanes and await self.pending() == 0:
                return
            self.wake()
            await asyncio.sleep(0.01)
        raise TimeoutError(f"inbound updates still waiting after {within:.0f} s")
