"""How long a campaign to N consenting people takes to queue, and one sender to hand it over.

Run: .venv/bin/python -m bench.broadcast [N]   (default 35000; SQLite, and PostgreSQL if reachable)
Rows are queued unspread and the channel's rate limits are lifted, so the figures are the
database's and the sender's own; a real Telegram bot sends at most 30 a second.
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
from flows.outreach.campaigns import create_campaign, enqueue_campaign
from handlers.base import RenderedMessage, SentMessage
from models import Participant

PG_ADMIN = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
LANGUAGES = ("en", "pl", "uk", "ru", "fa", "ar")
TEXTS = {"en": "Violence is never your fault. Free help, day and night: 800 120 002.",
         "pl": "Przemoc nigdy nie jest Twoją winą. Bezpłatna pomoc: 800 120 002.",
         "uk": "Насильство ніколи не є вашою провиною. Допомога: 800 120 002.",
         "fallback": "en"}  # fmt: skip


class NullChannel:
    name = "telegram"

    async def send(self, address: str, message: RenderedMessage) -> SentMessage:
        return SentMessage("1")


async def measure(label: str, url: str, count: int) -> None:
    service = Peerline(Settings(_env_file=None, database_url=url, secret_key="bench", env="test"))
    await migrate.upgrade(service.engine)
    service.channels["telegram"] = NullChannel()
    service.sender.limiter = RateLimiter({"telegram": RatePolicy(1e9, None)})
    service.sender.batch_size = 500
    cipher = service.vault.encrypt("telegram", "100200300")  # one address is enough here
    async with service.session_factory() as session, session.begin():
        for start in range(0, count, 5000):
            session.add_all(
                Participant(channel="telegram", address_hash=uuid.uuid4().hex, alias="b",
                            address_cipher=cipher, language=LANGUAGES[i % 6],
                            consent_terms=True, consent_campaigns=True)
                for i in range(start, min(count, start + 5000))
            )  # fmt: skip
            await session.flush()
    async with service.session_factory() as session, session.begin():
        campaign = await create_campaign(session, "bench", TEXTS, service.clock.now())
    started = time.perf_counter()
    async with service.session_factory() as session:
        queued = await enqueue_campaign(session, campaign.id, service.clock.now(), rates={})
    queuing = time.perf_counter() - started
    print(f"{label}: queued {queued} in {queuing:6.2f} s  ({queued / queuing:8.0f} rows/s)")
    started = time.perf_counter()
    sent = 0
    while handled := await service.sender.run_once():
        sent += handled
    sending = time.perf_counter() - started
    print(f"{label}: one sender handed {sent} to a null channel in {sending:6.2f} s  "
          f"({sent / sending:6.0f} messages/s)")  # fmt: skip
    await service.stop()


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        await measure("SQLite    ", f"sqlite+aiosqlite:///{tmp}/bench.db", count)
    try:
        import asyncpg

        admin = await asyncpg.connect(PG_ADMIN.replace("+asyncpg", ""))
    except (OSError, ImportError) as error:
        print(f"PostgreSQL not reachable, skipped ({type(error).__name__})")
        return
    name = f"peerline_bench_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await measure("PostgreSQL", PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", count)
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 35000))
