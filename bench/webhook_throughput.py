"""How fast the web edge takes Telegram webhook calls, and how fast the updates are then handled.

Run: .venv/bin/python -m bench.webhook_throughput [UPDATES]  (SQLite in a temporary directory)
The real server runs on loopback with the real python-telegram-bot against the fake Bot API.
"""

import asyncio
import sys
import tempfile
import time

import httpx

from handlers.telegram.channel import SECRET_HEADER, WEBHOOK_PATH
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI, make_message_update

CHATS = 50
CONCURRENCY = 40


async def measure(updates: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{directory}/bench.db"
        async with FakeBotAPI() as api, running_edge(url, telegram=api) as edge:
            headers = {SECRET_HEADER: api.webhook_secret}
            limits = httpx.Limits(max_connections=CONCURRENCY)
            gate = asyncio.Semaphore(CONCURRENCY)
            async with httpx.AsyncClient(limits=limits, timeout=60) as client:

                async def post(i: int) -> int:
                    update = make_message_update(1000 + i % CHATS, f"hello {i}", update_id=i + 1)
                    async with gate:
                        response = await client.post(
                            edge.url + WEBHOOK_PATH, json=update, headers=headers
                        )
                    return response.status_code

                started = time.perf_counter()
                statuses = await asyncio.gather(*(post(i) for i in range(updates)))
                acknowledged = time.perf_counter() - started
                await edge.service.inbound.idle(within=600)
                handled = time.perf_counter() - started
            accepted = statuses.count(200)
            return accepted / acknowledged, accepted / handled


def main() -> None:
    updates = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    acked, handled = asyncio.run(measure(updates))
    print(f"webhook, SQLite: {acked:,.0f} calls/s answered, {handled:,.0f} updates/s handled")


if __name__ == "__main__":
    main()
