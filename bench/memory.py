"""A worker's resident memory with 100,000 participants in the database, screen model off and on.

Run: .venv/bin/python -m bench.memory [PARTICIPANTS] [SENDS]  (SQLite, and PostgreSQL if reachable)
The parent seeds PARTICIPANTS people (half of them consenting to campaigns) and a few hundred
due jobs; then, for each setting, a fresh process does what `peerline worker` does: builds the
service, loads the danger screen (lexicons only, or with the sentence model), runs the
scheduler's tick until nothing is due (the daily purge among the jobs), queues a campaign to
everyone consenting (in batches, as the CLI does) and sends SENDS outbox rows through a channel
that answers at once. It reports its resident memory (VmRSS) after start-up and at the end, and
its peak (VmHWM), read from /proc/self/status.
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import uuid
from typing import Any

from sqlalchemy import insert

from bot import migrate
from bot.app import Peerline
from bot.ratelimit import RateLimiter, RatePolicy
from bot.settings import Settings
from flows.outreach.campaigns import create_campaign, enqueue_campaign
from flows.safety import retention
from handlers.base import RenderedMessage, SentMessage
from models import Participant, ScheduledJob

PG_ADMIN = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
LANGUAGES = ("en", "pl", "uk", "ru", "fa", "ar")
TARGET_MB = 150


class NullChannel:
    name = "telegram"

    async def send(self, address: str, message: RenderedMessage) -> SentMessage:
        return SentMessage("1")


def _memory_mb() -> dict[str, float]:
    values: dict[str, float] = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values


def _settings(url: str, model: bool) -> Settings:
    return Settings(_env_file=None, database_url=url, secret_key="bench", env="test",
                    screen_model=model)  # fmt: skip


async def seed(url: str, participants: int) -> None:
    service = Peerline(_settings(url, False))
    await migrate.upgrade(service.engine)
    cipher = service.vault.encrypt("telegram", "100200300")  # one address is enough here
    tag = uuid.uuid4().hex[:8]
    async with service.session_factory() as session, session.begin():
        for start in range(0, participants, 5000):
            await session.execute(insert(Participant), [
                {"channel": "telegram", "address_hash": f"{tag}-{i}", "address_cipher": cipher,
                 "alias": f"Person {i}", "language": LANGUAGES[i % 6], "consent_terms": True,
                 "consent_campaigns": i % 2 == 0}
                for i in range(start, min(participants, start + 5000))
            ])  # fmt: skip
        now = service.clock.now()
        # A few hundred due jobs whose offers are long gone.
        session.add_all(
            ScheduledJob(kind="offer_timeout", target_id=10**9 + i, due_at=now, payload={})
            for i in range(300)
        )
    async with service.engine.begin() as connection:
        await connection.exec_driver_sql("ANALYZE")
    await service.stop()


async def child(url: str, model: bool, sends: int) -> dict[str, Any]:
    service = Peerline(_settings(url, model))
    service.channels["telegram"] = NullChannel()
    service.sender.limiter = RateLimiter({"telegram": RatePolicy(1e9, None)})
    await asyncio.to_thread(service.screen.load)
    started = _memory_mb()
    async with service.session_factory() as session, session.begin():
        session.add(ScheduledJob(kind=retention.KIND, due_at=service.clock.now(), payload={}))
    ticks = 0
    while (ran := await service.jobs.tick()) > 0:
        ticks += ran
    async with service.session_factory() as session, session.begin():
        campaign = await create_campaign(session, "bench", {"en": "Hello", "fallback": "en"},
                                         service.clock.now())  # fmt: skip
    async with service.session_factory() as session:
        queued = await enqueue_campaign(session, campaign.id, service.clock.now(), rates={})
    sent = 0
    while sent < sends and (n := await service.sender.run_once()):
        sent += n
    await service.stop()
    end = _memory_mb()
    return {"model": model, "jobs": ticks, "queued": queued, "sent": sent,
            "rss_start": started["VmRSS"], "rss_end": end["VmRSS"],
            "peak": end["VmHWM"]}  # fmt: skip


def run_child(url: str, model: bool, sends: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.memory", "--child", url, "1" if model else "0", str(sends)],
        capture_output=True, text=True, check=True, timeout=1800,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


async def measure(label: str, url: str, participants: int, sends: int) -> None:
    await seed(url, participants)
    for model in (False, True):  # each run queues a campaign of its own to everyone consenting
        r = await asyncio.to_thread(run_child, url, model, sends)
        verdict = "under" if r["peak"] < TARGET_MB else "OVER"
        print(f"{label}: model {'on ' if model else 'off'}: "
              f"RSS after start {r['rss_start']:6.1f} MB, at the end {r['rss_end']:6.1f} MB, "
              f"peak {r['peak']:6.1f} MB ({verdict} "
              f"{TARGET_MB} MB); {r['jobs']} jobs, {r['queued']} queued, {r['sent']} sent",
              flush=True)  # fmt: skip


async def main(participants: int, sends: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await measure(f"SQLite, {participants} participants", url, participants, sends)
    try:
        import asyncpg

        admin = await asyncpg.connect(PG_ADMIN.replace("+asyncpg", ""))
        name = f"peerline_bench_{uuid.uuid4().hex[:8]}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
            await measure(f"PostgreSQL, {participants} participants", url, participants, sends)
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            await admin.close()
    except (OSError, ImportError) as error:
        print(f"PostgreSQL not reachable, skipped ({type(error).__name__})")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        result = asyncio.run(child(sys.argv[2], sys.argv[3] == "1", int(sys.argv[4])))
        print(json.dumps(result))
    else:
        args = [int(a) for a in sys.argv[1:3]]
        asyncio.run(main(*(args + [100_000, 5_000][len(args) :])))
