"""Wires settings, database, router, outbox sender, scheduler and channels into one service."""

import asyncio
import contextlib
import functools
import logging
from typing import Any

from sqlalchemy import func, select, text

from bot import telemetry
from bot.clock import SystemClock
from bot.inbound import InboundProcessor
from bot.jobs import register_jobs
from bot.outbox import OutboxSender
from bot.privacy import AddressVault
from bot.ratelimit import RateLimiter, RatePolicy
from bot.router import Router
from bot.scheduler import JobRunner, start_ticking
from bot.settings import Settings
from flows.registry import build_routes
from flows.safety import erasure, retention
from flows.safety.ageing import Ageing
from flows.safety.layered import DangerScreen, set_danger_screen
from flows.supporters import profile, wellbeing
from handlers.base import Channel
from handlers.console import ConsoleChannel
from handlers.journal import InboundJournal
from models import OutboxMessage, OutboxStatus, sealed
from models.db import make_engine, make_read_factory, make_session_factory, truncate_wal

log = logging.getLogger(__name__)


class Peerline:
    """One process of the service. Several can run against one database."""

    def __init__(self, settings: Settings, *, clock: Any = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.engine = make_engine(settings.database_url)
        telemetry.count_database_errors(self.engine)
        self.session_factory = make_session_factory(self.engine)
        self.vault = AddressVault(settings.resolved_secret_key())
        sealed.use_key(settings.resolved_secret_key())  # her words at rest
        self.console = ConsoleChannel() if settings.env != "production" else None
        self.channels: dict[str, Channel] = {}
        if self.console is not None:
            self.channels[self.console.name] = self.console
        self.router = Router(self.session_factory, self.vault, build_routes(), settings, self.clock)
        self.limiter = RateLimiter(
            {
                "telegram": RatePolicy(
                    settings.telegram_rate_per_second, settings.telegram_chat_rate_per_second
                ),
                "whatsapp": RatePolicy(settings.whatsapp_rate_per_second),
            }
        )
        self.sender = OutboxSender(
            self.session_factory, self.vault, self.channels, self.limiter, self.clock,
            lease_seconds=settings.outbox_lease_seconds,
            sender_lease_seconds=settings.outbox_sender_lease_seconds,
        )  # fmt: skip
        self.router.on_queued = self.sender.wake
        self.inbound = InboundProcessor(
            self.session_factory, self.vault.unseal, {},
            lease_seconds=settings.inbound_lease_seconds,
            concurrency=settings.inbound_concurrency,
            read_factory=make_read_factory(self.engine),
        )  # fmt: skip
        self.journal = InboundJournal(
            self.session_factory, self.vault.seal, on_committed=self.inbound.wake
        )
        self.jobs = JobRunner(self.session_factory, clock=self.clock, after_job=self.sender.wake)
        register_jobs(self)
        _register_safety_jobs(self.jobs, settings)
        for kind in (retention.KIND, erasure.FINISH_JOB):
            self.jobs.settle[kind] = functools.partial(truncate_wal, self.engine)
        self._tasks: list[asyncio.Task[None]] = []
        self._scheduler: Any = None
        self.screen = DangerScreen(
            use_model=settings.screen_model, model_wait=settings.screen_model_wait_seconds
        )
        set_danger_screen(self.screen)

    def add_channel(self, channel: Channel) -> None:
        self.channels[channel.name] = channel

    async def start(
        self,
        *,
        sender: bool = True,
        scheduler: bool = True,
        receive: bool = True,
        inbound: bool = True,
    ) -> None:
        """Load the danger screen, start channels (receiving only where `receive`), then loops.

        Every process that has `inbound` processes the journal, whoever received the update.
        """
        for channel in self.channels.values():
            start = getattr(channel, "start", None)
            if start is not None:
                await start(receive=receive)  # a refused token stops us here, in one line
            process = getattr(channel, "process", None)
            if process is not None:
                self.inbound.processors[channel.name] = process
        # Before any update is processed: a missing model is said once, loudly, in /healthz too.
        await asyncio.to_thread(self.screen.load)
        if inbound and self.inbound.processors:
            self.inbound.start()
        if sender:
            self._tasks.append(asyncio.create_task(self.sender.run_forever(), name="outbox"))
        if scheduler:
            await retention.ensure_scheduled(self.session_factory, self.clock.now())
            if self.settings.supporter_weekly_checkin:
                await wellbeing.ensure_round(
                    self.session_factory, self.clock.now(), self.settings.timezone
                )
            self._scheduler = start_ticking(self.jobs, self.settings.scheduler_tick_seconds)

    async def stop(self) -> None:
        # First nothing new comes in, and what a poller already fetched is journaled.
        for channel in self.channels.values():
            stop_receiving = getattr(channel, "stop_receiving", None)
            if stop_receiving is not None:
                await stop_receiving()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
        await self.sender.stop()  # in-flight sends finish and are recorded; the rest wait
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.journal.close()
        await self.inbound.stop()
        for channel in self.channels.values():
            stop = getattr(channel, "stop", None)
            if stop is not None:
                try:
                    await stop()
                except Exception:
                    log.exception("channel %s did not stop cleanly", channel.name)
        await self.engine.dispose()

    async def health(self) -> dict[str, Any]:
        """Database reachable, the sender alive where this process runs one, the screen's layers.

        A screen without its model still answers (lexicons only): reported, not a failure.
        """
        database = True
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            database = False
        sender = self.sender.alive if self._tasks else None
        return {
            "database": database,
            "sender": sender,
            "screening": self.screen.health(),
            "ok": database and sender is not False,
        }

    async def queue_depth(self) -> int:
        async with self.session_factory() as session:
            query = select(func.count()).where(OutboxMessage.status == OutboxStatus.PENDING)
            return int((await session.execute(query)).scalar_one())


def _register_safety_jobs(jobs: JobRunner, settings: Settings) -> None:
    """The daily retention purge, the last step of an erasure, the supporters' weekly round."""
    ageing = Ageing(settings.inactive_erase_days, settings.guard_mark_days, settings.block_days,
                    settings.audit_days, settings.flow_state_days,
                    kept_places=profile.KEPT_PLACES)  # fmt: skip
    purge = functools.partial(retention.purge, days=settings.retention_days, ageing=ageing)
    jobs.register(retention.KIND, purge)
    jobs.register(erasure.FINISH_JOB, erasure.finish_erasure)
    round_job = functools.partial(wellbeing.weekly_round, timezone=settings.timezone)
    jobs.register(wellbeing.ROUND_JOB, round_job)
