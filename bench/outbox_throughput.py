"""How many outbox rows a single sender delivers per second, channel limits lifted.

Run: .venv/bin/python -m bench.outbox_throughput [ROWS]  (SQLite, and PostgreSQL if reachable)
"""

import asyncio
import os
import sys
import tempfile
import time
import uuid

from bot import migrate
from bot.app import Peerline
from bot.ratelimit import RateLimiter, RatePolicy
from bot.settings import Settings
from flows.context import outbox_row
from flows.events import OutboundMessage
from handlers.base import RenderedMessage, SentMessage
from models import Participant

PG_ADMIN = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


class NullChannel:
    name = "telegram"

    async def send(self, address: str, message: RenderedMessage) -> SentMessage:
        return SentMessage("1")


async def measure(url: str, rows: int) -> float:
    service = Peerline(Settings(_env_file=None, database_url=url, secret_key="bench", env="test"))
    await migrate.upgrade(service.engine)
    service.channels["telegram"] = NullChannel()
    service.sender.limiter = RateLimiter({"telegram": RatePolicy(1e9, None)})
    async with service.session_factory() as session, session.begin():
        people = [
            Participant(channel="telegram", address_hash=uuid.uuid4().hex, alias="b",
                        address_cipher=service.vault.encrypt("telegram", str(i)), language="en")
            for i in range(100)
        ]  # fmt: skip
        session.add_all(people)
    async with service.session_factory() as session, session.begin():
        now = service.clock.now()
        for i in range(rows):
            session.add(outbox_row(people[i % 100], OutboundMessage("error.generic"), now))
    started = time.perf_counter()
    while await service.sender.run_once():
        pass
    elapsed = time.perf_counter() - started
    await service.stop()
    return rows / elapsed


async def main(rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rate = await measure(f"sqlite+aiosqlite:///{tmp}/bench.db", rows)
        print(f"outbox sender, SQLite:     {rate:8.0f} messages/s ({rows} rows, one sender)")
    try:
        import asyncpg

        admin = await asyncpg.connect(PG_ADMIN.replace("+asyncpg", ""))
        name = f"peerline_bench_{uuid.uuid4().hex[:8]}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            rate = await measure(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", rows)
            print(f"outbox sender, PostgreSQL: {rate:8.0f} messages/s ({rows} rows, one sender)")
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            await admin.close()
    except (OSError, ImportError) as error:
        print(f"PostgreSQL not reachable, skipped ({type(error).__name__})")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
