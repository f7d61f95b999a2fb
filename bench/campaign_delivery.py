"""A campaign delivered by three real `peerline worker` processes to the fake Bot API and the
fake Twilio API, counted where the messages arrive.

Run: .venv/bin/python -m bench.campaign_delivery [N_LIFTED] [N_TELEGRAM_30] [N_WHATSAPP_10]
(defaults 35000, 5000, 3000; PostgreSQL at TEST_DATABASE_URL's server, a database of its own,
dropped afterwards; `--sqlite` for the embedded database). Three figures:

(a) limits lifted: N_LIFTED recipients on Telegram, our own overhead in messages/s (the
    database, rendering, python-telegram-bot and HTTP to a local fake) and CPU per message;
(b) Telegram at 30 messages/s and 1/s per chat: the achieved rate over the run, the most that
    arrived in any one second, and the shortest gap between two messages to one chat (20 chats
    also get five replies each, queued with the campaign);
(c) WhatsApp at 10 messages/s through Twilio's REST API: the same figures.

The campaign is queued by the real `enqueue_campaign`, unspread, so the workers' pacing alone
holds the rates. Three workers run together; one sender per channel sends at a time (the
others stand by), so the rate is the deployment's, not three times it.
"""

import asyncio
import bisect
import os
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from bot.privacy import AddressVault
from flows.context import outbox_row
from flows.events import OutboundMessage
from flows.outreach.campaigns import create_campaign, enqueue_campaign
from models import OutboxMessage, OutboxStatus, Participant, sealed, utcnow
from models.db import make_engine, make_session_factory
from tests.channel_support import WHATSAPP_FROM
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.processes import PeerlineProcess, service_env
from tests.support import PG_ADMIN_URL, TEST_SECRET
from tests.test_durable_inbound import migrated

TEXTS = {"en": "Free legal advice on Saturday, 10:00-14:00.", "fallback": "en"}
WORKERS = 3
HOLD = timedelta(days=1)
TICK = os.sysconf("SC_CLK_TCK")


def address(channel: str, i: int) -> str:
    return f"whatsapp:+4862{i:07d}" if channel == "whatsapp" else str(20_000_000 + i)


async def seed(url: str, channel: str, count: int, replies_to: int = 0) -> int:
    """`count` women who agreed to news, the campaign queued to them; returns the rows."""
    await migrated(url)
    sealed.use_key(TEST_SECRET)
    vault, now = AddressVault(TEST_SECRET), utcnow()
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        for start in range(0, count, 5000):
            async with sessions() as session, session.begin():
                session.add_all(
                    Participant(channel=channel, alias="b", language="en", consent_terms=True,
                                consent_campaigns=True, last_inbound_at=now,
                                address_hash=vault.lookup_hash(channel, address(channel, i)),
                                address_cipher=vault.encrypt(channel, address(channel, i)))
                    for i in range(start, min(count, start + 5000))
                )  # fmt: skip
        async with sessions() as session, session.begin():
            campaign = await create_campaign(session, "bench", TEXTS, now)
            people = (await session.execute(select(Participant).limit(replies_to))).scalars()
            for person in people:
                for _ in range(5):
                    session.add(outbox_row(person, OutboundMessage("error.generic"), now))
        async with sessions() as session:
            await enqueue_campaign(session, campaign.id, now, rates={})
        async with sessions() as session, session.begin():
            # Held until the workers are up (they load the danger screen first): see `release`.
            await session.execute(update(OutboxMessage).values(available_at=now + HOLD))
            return (await session.execute(select(func.count(OutboxMessage.id)))).scalar_one()
    finally:
        await engine.dispose()


async def release(url: str) -> None:
    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            await session.execute(update(OutboxMessage).values(available_at=utcnow()))
    finally:
        await engine.dispose()


async def sent_rows(url: str) -> int:
    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as session:
            query = select(func.count()).where(OutboxMessage.status == OutboxStatus.SENT)
            return (await session.execute(query)).scalar_one()
    finally:
        await engine.dispose()


def cpu_seconds(process: PeerlineProcess) -> float:
    assert process.process is not None
    stat = Path(f"/proc/{process.process.pid}/stat")
    if not stat.exists():
        print("a worker exited early:", *process.stderr[-10:], sep="\n  ")
        return 0.0
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


async def deliver(url: str, env: dict, expected: int, arrivals) -> tuple[list, float, float]:
    """Three workers until `expected` messages arrived; (arrivals, wall seconds, CPU seconds)."""
    workers = [PeerlineProcess(["worker"], env) for _ in range(WORKERS)]
    for worker in workers:
        await worker.start(ready="worker is running", within=300)
    before = sum(cpu_seconds(w) for w in workers)  # after start-up (the danger screen's model)
    await release(url)
    started = time.monotonic()
    try:
        async with asyncio.timeout(3600):
            while True:
                if len(arrivals()) >= expected:
                    break
                await asyncio.sleep(0.2)
        seconds = time.monotonic() - started
        await asyncio.sleep(1.0)  # anything sent twice would arrive now
        cpu = sum(cpu_seconds(w) for w in workers) - before
    finally:
        for worker in workers:
            await worker.stop()
    errors = [line for w in workers for line in w.errors()]
    if errors:
        print("worker errors:", *errors[:5], sep="\n  ")
    assert await sent_rows(url) == expected, "not every row was recorded as sent"
    return arrivals(), seconds, cpu


def figures(arrived: list[tuple[float, str]], limit: float | None) -> str:
    times = sorted(at for at, _ in arrived)
    rate = (len(times) - 1) / (times[-1] - times[0])
    most = max(bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times))
    per_chat = defaultdict(list)
    for at, chat in arrived:
        per_chat[chat].append(at)
    ordered = [sorted(ts) for ts in per_chat.values()]
    gaps = [b - a for ts in ordered for a, b in zip(ts, ts[1:], strict=False)]
    text = f"achieved {rate:.2f} messages/s"
    if limit:
        text += f" ({(rate / limit - 1) * 100:+.1f} % of the limit), most in one second {most}"
    if gaps:
        text += f", shortest gap to one chat {min(gaps):.3f} s"
    return text


async def database(sqlite: bool, tmp: str, name: str) -> str:
    if sqlite:
        return f"sqlite+aiosqlite:///{tmp}/{name}.db"
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await admin.execute(f'CREATE DATABASE "bench_{name}"')
    finally:
        await admin.close()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/bench_{name}"


async def drop(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await admin.close()


def base_env(url: str) -> dict:
    return service_env(url, scheduler_tick_seconds=60, outbox_lease_seconds=30, worker_port=0)


async def main(lifted: int, at_30: int, at_10: int, sqlite: bool) -> None:
    backend = "SQLite" if sqlite else "PostgreSQL"
    print(f"{WORKERS} workers, {backend}; load average at start {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        runs = [("b", at_30), ("c", at_10), ("a", lifted)]  # the paced ones first: shorter
        for run, count in runs:
            if not count:
                continue
            url = await database(sqlite, tmp, f"{run}_{uuid.uuid4().hex[:8]}")
            try:
                if run == "c":
                    async with FakeTwilioAPI() as twilio:
                        expected = await seed(url, "whatsapp", count)
                        env = base_env(url) | service_env(
                            url, twilio_account_sid=twilio.account_sid,
                            twilio_auth_token=twilio.auth_token,
                            twilio_whatsapp_from=WHATSAPP_FROM,
                            twilio_api_base_url=twilio.base_url, whatsapp_rate_per_second=10,
                        )  # fmt: skip
                        arrived, seconds, cpu = await deliver(
                            url, env, expected, lambda: list(twilio.arrivals)
                        )
                    label = f"(c) WhatsApp at 10/s, {count}"
                    shown = figures(arrived, 10)
                else:
                    async with FakeBotAPI() as api:
                        replies = 20 if run == "b" else 0
                        expected = await seed(url, "telegram", count, replies)
                        rates = (
                            {"telegram_rate_per_second": 1e6, "telegram_chat_rate_per_second": 1e6}
                            if run == "a"
                            else {"telegram_rate_per_second": 30}
                        )
                        env = base_env(url) | service_env(
                            url, telegram_bot_token=api.token,
                            telegram_api_base_url=api.base_url.removesuffix("/bot"), **rates,
                        )  # fmt: skip

                        def calls(api: FakeBotAPI = api) -> list:
                            return [
                                (c.at, str(c.params["chat_id"]))
                                for c in api.calls_to("sendMessage")
                                if c.ok
                            ]

                        arrived, seconds, cpu = await deliver(url, env, expected, calls)
                    label = (
                        f"(a) Telegram, limits lifted, {count}"
                        if run == "a"
                        else f"(b) Telegram at 30/s, {count} + 20 chats x 5 replies"
                    )
                    shown = figures(arrived, None if run == "a" else 30)
                print(
                    f"{label}: {len(arrived)} messages, all in {seconds:.1f} s from release, "
                    f"{shown}; workers' CPU "
                    f"{1000 * cpu / len(arrived):.1f} ms/message; load {os.getloadavg()}",
                    flush=True,
                )
            finally:
                await drop(url)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    counts = [int(a) for a in args[:3]] + [35000, 5000, 3000][len(args[:3]) :]
    asyncio.run(main(*counts, sqlite="--sqlite" in sys.argv))
