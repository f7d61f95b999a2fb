"""The embedded default under platform retries: 3,000 updates at the webhook, 20 % of them sent
again, on SQLite. Every unique update is handled exactly once and nothing fails or freezes."""

import asyncio
import json
import os
import time

import httpx
from sqlalchemy import func, select

from bench.sqlite_answers import stream as retried_stream
from flows import metrics
from handlers.telegram.channel import SECRET_HEADER, WEBHOOK_PATH
from models import ProcessedInbound
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI

TOTAL, CONCURRENCY = int(os.environ.get("STREAM_TOTAL", 3000)), 16


def failed() -> float:
    return (
        metrics.registry.get_sample_value(
            "peerline_updates_in_total", {"channel": "telegram", "outcome": "failed"}
        )
        or 0.0
    )


async def test_a_stream_with_a_fifth_retried_is_handled_once_each(tmp_path):
    stream, unique = retried_stream(TOTAL)
    failed_before = failed()
    slowest = 0.0
    async with (
        FakeBotAPI() as api,
        running_edge(f"sqlite+aiosqlite:///{tmp_path}/burst.db", telegram=api) as edge,
    ):
        headers = {SECRET_HEADER: api.webhook_secret, "Content-Type": "application/json"}
        queue: asyncio.Queue[dict] = asyncio.Queue()
        for update in stream:
            queue.put_nowait(update)
        answers: list[int] = []

        async def client_loop(client: httpx.AsyncClient) -> None:
            nonlocal slowest
            while not queue.empty():
                update = queue.get_nowait()
                started = time.monotonic()
                while True:  # as Telegram does: a 429 or 503 is sent again a moment later
                    response = await client.post(
                        edge.url + WEBHOOK_PATH, content=json.dumps(update), headers=headers
                    )
                    if response.status_code not in (429, 503):
                        break
                    await asyncio.sleep(0.05)
                slowest = max(slowest, time.monotonic() - started)
                answers.append(response.status_code)

        async with httpx.AsyncClient(timeout=60) as client:
            await asyncio.gather(*(client_loop(client) for _ in range(CONCURRENCY)))
        await edge.drain()
        async with edge.service.session_factory() as session:
            rows = select(func.count()).select_from(ProcessedInbound)
            processed = (await session.execute(rows)).scalar_one()
            waiting = await session.execute(rows.where(ProcessedInbound.payload.is_not(None)))
            waiting = waiting.scalar_one()
    assert answers.count(200) == TOTAL
    assert processed == unique  # each unique update once, none lost, none twice
    assert waiting == 0  # and every one of them processed
    assert failed() == failed_before  # no "database is locked", no apology
    print(f"slowest answer {slowest:.3f} s")  # the benchmark's figure; the issue asks < 1 s
