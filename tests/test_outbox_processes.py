"""Real `peerline worker` processes on one outbox: pacing across processes, SIGTERM, kill -9.

Sends are counted where they arrive, at the fake Bot API, with the time each arrived.
"""

import asyncio
import signal
from collections import Counter, defaultdict

from sqlalchemy import func, select

from bot.privacy import AddressVault
from flows.context import outbox_row
from flows.events import OutboundMessage
from models import OutboxMessage, OutboxStatus, Participant, sealed, utcnow
from models.db import make_engine, make_session_factory
from tests.fakes.telegram_api import FakeBotAPI
from tests.processes import PeerlineProcess, service_env
from tests.support import TEST_SECRET
from tests.test_durable_inbound import migrated

CHAT_BASE = 80_000


async def seed_campaign(database_url: str, people: int, each: int = 1) -> None:
    """`people` women on Telegram, each with `each` messages waiting in the outbox."""
    await migrated(database_url)
    sealed.use_key(TEST_SECRET)  # as a process does at start-up: rows hold sealed parameters
    vault = AddressVault(TEST_SECRET)
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            women = [
                Participant(
                    channel="telegram",
                    address_hash=vault.lookup_hash("telegram", str(CHAT_BASE + i)),
                    address_cipher=vault.encrypt("telegram", str(CHAT_BASE + i)),
                    alias=f"W{i}",
                    language="en",
                )
                for i in range(people)
            ]
            session.add_all(women)
            await session.flush()
            now = utcnow()
            for _ in range(each):
                session.add_all(
                    outbox_row(w, OutboundMessage("error.generic", kind="campaign"), now)
                    for w in women
                )
    finally:
        await engine.dispose()


async def outbox_counts(database_url: str) -> Counter:
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as session:
            rows = await session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )
            return Counter(dict(rows.all()))
    finally:
        await engine.dispose()


async def recorded_sends(database_url: str) -> dict[int, str]:
    """chat id -> the provider's message id recorded for her row."""
    engine = make_engine(database_url)
    vault = AddressVault(TEST_SECRET)
    try:
        async with make_session_factory(engine)() as session:
            rows = await session.execute(
                select(Participant.address_cipher, OutboxMessage.channel_message_id)
                .join(Participant, Participant.id == OutboxMessage.participant_id)
                .where(OutboxMessage.channel_message_id.is_not(None))
            )
            return {int(vault.decrypt("telegram", c)): m for c, m in rows.all()}
    finally:
        await engine.dispose()


def worker(database_url: str, api: FakeBotAPI, **settings) -> PeerlineProcess:
    env = service_env(
        database_url,
        telegram_bot_token=api.token,
        telegram_api_base_url=api.base_url.removesuffix("/bot"),
        outbox_lease_seconds=3,
        outbox_sender_lease_seconds=3,
        scheduler_tick_seconds=60,
        **settings,
    )
    return PeerlineProcess(["worker"], env)


def sends(api: FakeBotAPI) -> list:
    return [c for c in api.calls_to("sendMessage") if c.ok]


async def sent_at_least(api: FakeBotAPI, count: int, within: float = 240.0) -> None:
    async with asyncio.timeout(within):
        while True:
            if len(sends(api)) >= count:
                return
            await asyncio.sleep(0.05)


async def test_three_workers_keep_the_bot_and_chat_rates_and_send_nothing_twice(database_url):
    people, each, rate = 40, 3, 20
    await seed_campaign(database_url, people, each)
    async with FakeBotAPI() as api:
        api.latency = 0.02
        workers = [worker(database_url, api, telegram_rate_per_second=rate) for _ in range(3)]
        for process in workers:
            await process.start(ready="worker is running")
        try:
            await sent_at_least(api, people * each)
            await asyncio.sleep(1.0)  # anything sent twice would arrive now
        finally:
            for process in workers:
                await process.stop()
    calls = sends(api)
    per_chat = Counter(c.params["chat_id"] for c in calls)
    assert len(calls) == people * each and set(per_chat.values()) == {each}
    times = sorted(c.at for c in calls)
    # Counted on arrival, so loopback jitter may bring one early: at most one over the rate.
    assert max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times)) <= (
        rate + 1
    )
    by_chat = defaultdict(list)
    for call in calls:
        by_chat[call.params["chat_id"]].append(call.at)
    gaps = [b - a for ts in by_chat.values() for a, b in zip(ts, ts[1:], strict=False)]
    assert min(gaps) >= 0.9  # 1/s per chat, less the same jitter
    assert (await outbox_counts(database_url))[OutboxStatus.SENT] == people * each
    assert [w.errors() for w in workers] == [[], [], []]


async def test_sigterm_mid_batch_finishes_or_gives_back_every_claimed_row(database_url):
    people = 300
    await seed_campaign(database_url, people)
    async with FakeBotAPI() as api:
        api.latency = 0.05
        first = worker(database_url, api, telegram_rate_per_second=60)
        await first.start(ready="worker is running")
        await sent_at_least(api, 50)
        assert await first.stop(signal.SIGTERM) == 0
        sent_before = len(sends(api))
        counts = await outbox_counts(database_url)
        assert counts[OutboxStatus.SENDING] == 0  # nothing left claimed by the stopped worker
        assert counts[OutboxStatus.SENT] == sent_before  # every answer it got was recorded
        assert sent_before < people

        second = worker(database_url, api, telegram_rate_per_second=60)
        await second.start(ready="worker is running")
        try:
            await sent_at_least(api, people)
            await asyncio.sleep(1.0)
        finally:
            await second.stop()
    per_chat = Counter(c.params["chat_id"] for c in sends(api))
    assert len(per_chat) == people and set(per_chat.values()) == {1}
    assert first.errors() == second.errors() == []
