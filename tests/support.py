"""Helpers shared by tests: building a service on a test database, recording channels."""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from bot import migrate
from bot.app import Peerline
from bot.clock import VirtualClock
from bot.settings import Settings
from handlers.base import DeliveryError, RenderedMessage, SentMessage

PG_ADMIN_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
TEST_SECRET = "test-secret-key-not-for-production-000000"


async def postgres_reachable() -> bool:
    try:
        import asyncpg

        dsn = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncio.wait_for(asyncpg.connect(dsn), timeout=3)
        await connection.close()
        return True
    except Exception:
        return False


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "env": "test",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def running_service(
    database_url: str, *, clock: Any = None, start: bool = False, **overrides: Any
) -> AsyncIterator[Peerline]:
    """A migrated service on the given database; background loops only when `start`."""
    service = Peerline(make_settings(database_url, **overrides), clock=clock or VirtualClock())
    await migrate.upgrade(service.engine)
    if start:
        await service.start()
    try:
        yield service
    finally:
        await service.stop()


@dataclass
class Delivery:
    address: str
    message: RenderedMessage
    at: float


@dataclass
class RecordingChannel:
    """A channel that records what it was asked to send and can be scripted to fail."""

    name: str
    clock: Any
    deliveries: list[Delivery] = field(default_factory=list)
    failures: list[tuple[str | None, DeliveryError]] = field(default_factory=list)

    def fail_next(self, error: DeliveryError, address: str | None = None) -> None:
        self.failures.append((address, error))

    async def send(self, address: str, message: RenderedMessage) -> SentMessage:
        for index, (target, error) in enumerate(self.failures):
            if target is None or target == address:
                del self.failures[index]
                raise error
        self.deliveries.append(Delivery(address, message, self.clock.now().timestamp()))
        return SentMessage(channel_message_id=str(len(self.deliveries)))

    def texts_to(self, address: str) -> list[str]:
        return [d.message.text for d in self.deliveries if d.address == address]


async def drain(sender: Any, clock: Any, rounds: int = 500) -> None:
    """Run the sender until nothing is left, moving the virtual clock when all rows wait."""
    from sqlalchemy import select

    from models import OutboxMessage, OutboxStatus

    for _ in range(rounds):
        if await sender.run_once() == 0:
            async with sender.session_factory() as session:
                waiting = (
                    (
                        await session.execute(
                            select(OutboxMessage.available_at).where(
                                OutboxMessage.status == OutboxStatus.PENDING
                            )
                        )
                    )
                    .scalars()
                    .all()
                )
            if not waiting:
                return
            clock.advance(max(0.01, (min(waiting) - clock.now()).total_seconds()))
    raise AssertionError("outbox did not drain")
