"""SIGTERM of each process kind in the middle of its work loses nothing.

Real `peerline` processes against the fake Bot API. The web process is stopped mid-burst with
updates still being processed in its lanes, the polling process with updates fetched from
Telegram (and so confirmed to it) but not yet journaled; each exits by itself (status 0), gives
back what it held, and a restarted process handles every update exactly once. The worker
mid-batch: test_sigterm_mid_batch_finishes_or_gives_back_every_claimed_row in
tests/test_outbox_processes.py.
"""

import asyncio
import signal

from sqlalchemy import func, select

from models import Lease, ProcessedInbound
from models.db import make_engine, make_session_factory
from tests.fakes.telegram_api import FakeBotAPI, make_message_update
from tests.processes import PeerlineProcess, free_port, service_env, wait_until_processed
from tests.test_durable_inbound import effects, migrated, post_all, web_process

BURST = 400
STOP_AFTER = 120  # acknowledged updates before the SIGTERM


async def lanes_held(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as session:
            query = select(func.count()).where(
                Lease.name.like("inbound:%"), Lease.holder.is_not(None)
            )
            return (await session.execute(query)).scalar_one()
    finally:
        await engine.dispose()


async def journaled(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as session:
            query = select(func.count()).select_from(ProcessedInbound)
            return (await session.execute(query)).scalar_one()
    finally:
        await engine.dispose()


async def test_sigterm_of_a_web_process_mid_burst_loses_no_acknowledged_update(database_url):
    await migrated(database_url)
    async with FakeBotAPI() as api:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        first = web_process(database_url, api, port)
        await first.start()
        updates = [make_message_update(60_000 + i, "hello", update_id=1 + i) for i in range(BURST)]
        acked = 0

        def count_ack() -> None:
            nonlocal acked
            acked += 1
            if acked == STOP_AFTER:
                first.process.send_signal(signal.SIGTERM)

        statuses = await post_all(url, api.webhook_secret, updates, on_ack=count_ack)
        code = await asyncio.wait_for(first.process.wait(), 60)
        acknowledged = {uid for uid, status in statuses.items() if status == 200}
        assert STOP_AFTER <= len(acknowledged) < BURST  # the signal landed inside the burst
        assert code == 0  # it ended by itself, not by a kill
        assert await lanes_held(database_url) == 0  # its lanes given back, not left to expire

        second = web_process(database_url, api, port)
        await second.start()
        try:
            again = [u for u in updates if u["update_id"] not in acknowledged]
            retried = await post_all(url, api.webhook_secret, again)
            assert set(retried.values()) == {200}
            await wait_until_processed(database_url, BURST)
        finally:
            await second.stop()
    people, per_person, processed, apologies = await effects(database_url)
    assert people == processed == BURST and apologies == 0
    assert len(set(per_person.values())) == 1  # each "hello" acted once
    assert first.errors() == second.errors() == []


def polling_process(database_url: str, api: FakeBotAPI) -> PeerlineProcess:
    env = service_env(
        database_url,
        telegram_bot_token=api.token,
        telegram_api_base_url=api.base_url.removesuffix("/bot"),
        port=0,
    )
    return PeerlineProcess(["run", "--no-migrate"], env)


async def test_sigterm_of_a_polling_process_journals_every_update_it_fetched(database_url):
    """What PTB fetched is confirmed to Telegram at its next call or when it stops: an update
    fetched but not yet in the journal when the process goes would never come again."""
    await migrated(database_url)
    total = 1000
    async with FakeBotAPI() as api:
        api.latency, api.fetch_limit = 0.2, 10  # a stream of 100 fetches that lasts 20 s
        for i in range(total):
            api.push_update(make_message_update(70_000 + i % 200, "hello", update_id=1 + i))
        first = polling_process(database_url, api)
        await first.start()
        async with asyncio.timeout(120):
            while await journaled(database_url) < 50:  # noqa: ASYNC110 (another process's rows)
                await asyncio.sleep(0.02)
        assert await first.stop(signal.SIGTERM, within=60) == 0
        confirmed = total - api.unconfirmed
        assert 0 < confirmed < total  # stopped inside the stream
        assert await journaled(database_url) == confirmed  # each one Telegram will not resend
        assert await lanes_held(database_url) == 0

        second = polling_process(database_url, api)
        await second.start()
        try:
            async with asyncio.timeout(300):
                while await journaled(database_url) < total:  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
        finally:
            await second.stop()
    assert await journaled(database_url) == total
    assert first.errors() == second.errors() == []
