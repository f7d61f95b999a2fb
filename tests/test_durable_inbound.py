"""An update answered 200 is committed first: kill -9 of a real web process loses none of them.

Real `peerline run --web-only` processes against the fake Bot API; the outbox sender does not
run, so the outbox rows each update queued show whether it acted once, twice or not at all.
"""

import asyncio
from collections import Counter

import httpx
from sqlalchemy import func, select

from bot import migrate
from handlers.telegram.channel import SECRET_HEADER, WEBHOOK_PATH
from models import OutboxMessage, Participant, ProcessedInbound
from models.db import make_engine, make_session_factory
from tests.fakes.telegram_api import FakeBotAPI, make_message_update
from tests.processes import PeerlineProcess, free_port, service_env, wait_until_processed

BURST = 600
CONNECTIONS = 40
KILL_AFTER = 150  # acknowledged updates before the kill -9


async def migrated(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


def web_process(database_url: str, api: FakeBotAPI, port: int) -> PeerlineProcess:
    env = service_env(
        database_url,
        telegram_bot_token=api.token,
        telegram_api_base_url=api.base_url.removesuffix("/bot"),
        public_url=f"http://127.0.0.1:{port}",
        port=port,
    )
    return PeerlineProcess(["run", "--web-only", "--no-migrate"], env)


async def post_all(
    url: str, secret: str, updates: list[dict], on_ack=None, attempts: int = 1
) -> dict[int, int]:
    """POST each update, CONNECTIONS at a time; update_id -> status (0: no answer).

    With `attempts` > 1 an update that got no answer is sent again, as Telegram does.
    """
    statuses: dict[int, int] = {}
    gate = asyncio.Semaphore(CONNECTIONS)
    limits = httpx.Limits(max_connections=CONNECTIONS)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def post(update: dict) -> None:
            async with gate:
                for _ in range(attempts):
                    try:
                        response = await client.post(
                            url + WEBHOOK_PATH, json=update, headers={SECRET_HEADER: secret}
                        )
                        statuses[update["update_id"]] = response.status_code
                        break
                    except httpx.HTTPError:
                        statuses[update["update_id"]] = 0
            if statuses[update["update_id"]] == 200 and on_ack is not None:
                on_ack()

        await asyncio.gather(*(post(u) for u in updates))
    return statuses


async def effects(database_url: str) -> tuple[int, Counter, int, int]:
    """(participants, outbox rows per participant, processed rows, apologies)."""
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as session:
            people = (await session.execute(select(func.count(Participant.id)))).scalar_one()
            per_person = Counter(
                dict(
                    (
                        await session.execute(
                            select(OutboxMessage.participant_id, func.count()).group_by(
                                OutboxMessage.participant_id
                            )
                        )
                    ).all()
                )
            )
            processed = (
                await session.execute(
                    select(func.count()).where(
                        ProcessedInbound.payload.is_(None),
                        ProcessedInbound.participant_id.is_not(None),
                    )
                )
            ).scalar_one()
            apologies = (
                await session.execute(
                    select(func.count()).where(OutboxMessage.text_id == "error.generic")
                )
            ).scalar_one()
            return people, per_person, processed, apologies
    finally:
        await engine.dispose()


async def test_kill_9_in_a_burst_then_restart_processes_every_acknowledged_update_once(
    database_url,
):
    await migrated(database_url)
    async with FakeBotAPI() as api:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        first = web_process(database_url, api, port)
        await first.start()
        secret = api.webhook_secret
        assert secret
        updates = [make_message_update(50_000 + i, "hello", update_id=1 + i) for i in range(BURST)]
        acked = 0

        def count_ack() -> None:
            nonlocal acked
            acked += 1
            if acked == KILL_AFTER:
                first.kill()

        statuses = await post_all(url, secret, updates, on_ack=count_ack)
        await first.stop()
        acknowledged = {uid for uid, status in statuses.items() if status == 200}
        assert KILL_AFTER <= len(acknowledged) < BURST  # the kill landed inside the burst

        # Telegram sends again what was not acknowledged; a few acknowledged ones come twice.
        second = web_process(database_url, api, port)
        await second.start()
        try:
            again = [u for u in updates if u["update_id"] not in acknowledged]
            again += [u for u in updates if u["update_id"] in acknowledged][:50]
            retried = await post_all(url, secret, again, attempts=3)
            assert set(retried.values()) == {200}
            await wait_until_processed(database_url, BURST)
        finally:
            await second.stop()

    people, per_person, processed, apologies = await effects(database_url)
    assert people == BURST  # every woman who wrote, once
    assert processed == BURST  # every update, acknowledged before or after the kill
    assert apologies == 0
    assert len(set(per_person.values())) == 1  # each "hello" queued the same replies: once
    assert second.errors() == []
