"""Scheduled rows claimed by whichever worker ticks first; APScheduler only provides the tick."""

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import telemetry
from bot.clock import SystemClock
from models import ScheduledJob

log = logging.getLogger(__name__)

MAX_JOB_ATTEMPTS = 30  # about a day of hourly retries

JobHandler = Callable[[AsyncSession, ScheduledJob, datetime], Awaitable[None]]


@dataclass
class JobRunner:
    """Runs due `ScheduledJob` rows by kind; a job that fails is retried with back-off."""

    session_factory: async_sessionmaker[AsyncSession]
    handlers: dict[str, JobHandler] = field(default_factory=dict)
    clock: Any = field(default_factory=SystemClock)
    lease_seconds: float = 120.0
    worker_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    after_job: Callable[[], None] = lambda: None
    # Work to do once a job of a kind has committed (after a purge: empty SQLite's WAL).
    settle: dict[str, Callable[[], Awaitable[None]]] = field(default_factory=dict)

    def register(self, kind: str, handler: JobHandler) -> None:
        self.handlers[kind] = handler

    async def tick(self, limit: int = 100) -> int:
        ids = await self._claim(limit)
        for job_id in ids:
            await self._run(job_id)
        if ids:
            self.after_job()
        return len(ids)

    async def _claim(self, limit: int) -> list[int]:
        now = self.clock.now()
        async with self.session_factory() as session, session.begin():
            query = (
                select(ScheduledJob.id)
                .where(
                    ScheduledJob.done_at.is_(None),
                    ScheduledJob.due_at <= now,
                    ScheduledJob.kind.in_(list(self.handlers)),
                    or_(ScheduledJob.lease_until.is_(None), ScheduledJob.lease_until < now),
                )
                .order_by(ScheduledJob.due_at)
                .limit(limit)
            )
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list((await session.execute(query)).scalars())
            if not ids:
                return []
            result = await session.execute(
                update(ScheduledJob)
                .where(
                    ScheduledJob.id.in_(ids),
                    ScheduledJob.done_at.is_(None),
                    or_(ScheduledJob.lease_until.is_(None), ScheduledJob.lease_until < now),
                )
                .values(
                    lease_until=now + timedelta(seconds=self.lease_seconds),
                    claimed_by=self.worker_id,
                    attempts=ScheduledJob.attempts + 1,
                )
                .returning(ScheduledJob.id)
            )
            return sorted(result.scalars())

    async def _run(self, job_id: int) -> None:
        kind = None
        try:
            async with self.session_factory() as session, session.begin():
                job = await session.get(ScheduledJob, job_id)
                if job is None or job.claimed_by != self.worker_id or job.done_at is not None:
                    return
                kind = job.kind
                await self.handlers[job.kind](session, job, self.clock.now())
                job.done_at = self.clock.now()
                job.lease_until = None
            if kind in self.settle:
                await self.settle[kind]()
            return
        except Exception:
            log.exception("scheduled job %s failed", job_id)
            telemetry.job_failures.labels(kind or "unknown").inc()
            async with self.session_factory() as session, session.begin():
                job = await session.get(ScheduledJob, job_id)
                if job is None:
                    return
                job.lease_until = None
                if job.attempts >= MAX_JOB_ATTEMPTS:
                    # A job that fails a day long is a bug to fix, not something to retry forever.
                    job.done_at = self.clock.now()
                    job.payload = {**job.payload, "failed": True}
                    log.error("scheduled job %s (%s) gave up after %s attempts",
                              job_id, job.kind, job.attempts)  # fmt: skip
                    return
                delay = min(60 * 2 ** min(job.attempts, 6), 3600)
                job.due_at = self.clock.now() + timedelta(seconds=delay)


def start_ticking(runner: JobRunner, every_seconds: float) -> AsyncIOScheduler:
    """One interval job per process; coalesced so a slow tick never piles up behind itself."""
    scheduler = AsyncIOScheduler()
    scheduler.add_job(
        runner.tick, "interval", seconds=every_seconds, max_instances=1, coalesce=True,
        id="peerline-tick",
    )  # fmt: skip
    scheduler.start()
    return scheduler
