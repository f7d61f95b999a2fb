"""How long the webhook takes to answer on SQLite under platform retries.

Run: .venv/bin/python -m bench.sqlite_answers [UPDATES] [CONNECTIONS]   (defaults 3000, 16)

The stream of tests/test_sqlite_retries.py: UPDATES webhook calls over 150 chats, a fifth of them
an update sent again, at CONNECTIONS at once, against one real `peerline run` process on a
SQLite file (the outbox sender and the inbound lanes running beside the webhook, the fake Bot
API as Telegram). Every answer's time is kept (a 429 or 503 is sent again, as Telegram does,
and counts in the same answer's time). Prints the slowest, p99 and median answer with the load
average beside: compare runs before and after a change back to back on the same machine.
"""

import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time

import httpx

from handlers.telegram.channel import SECRET_HEADER, WEBHOOK_PATH
from tests.fakes.telegram_api import FakeBotAPI, make_message_update
from tests.processes import PeerlineProcess, free_port, service_env, wait_until_processed

CHATS, DUPLICATES = 150, 0.20


def stream(total: int) -> tuple[list[dict], int]:
    rng = random.Random(7)
    unique = int(total * (1 - DUPLICATES))
    updates = [
        make_message_update(
            8_200_000_000 + i % CHATS, "hello" if i >= CHATS else "/start", update_id=500_000 + i
        )  # fmt: skip
        for i in range(unique)
    ]
    everything = updates + [rng.choice(updates) for _ in range(total - unique)]
    rng.shuffle(everything)
    return everything, unique


async def measure(total: int, connections: int) -> dict[str, float]:
    updates, unique = stream(total)
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{directory}/answers.db"
        async with FakeBotAPI() as api:
            port = free_port()
            env = service_env(
                url, public_url=f"http://127.0.0.1:{port}", port=port,
                telegram_bot_token=api.token,
                telegram_api_base_url=api.base_url.removesuffix("/bot"),
                inbound_lease_seconds=30,
            )  # fmt: skip
            process = PeerlineProcess(["run"], env)
            await process.start()
            try:
                headers = {SECRET_HEADER: api.webhook_secret, "Content-Type": "application/json"}
                queue: asyncio.Queue[dict] = asyncio.Queue()
                for update in updates:
                    queue.put_nowait(update)
                times: list[float] = []
                statuses: list[int] = []
                limits = httpx.Limits(max_connections=connections)
                async with httpx.AsyncClient(timeout=120, limits=limits) as client:

                    async def client_loop() -> None:
                        while not queue.empty():
                            body = json.dumps(queue.get_nowait())
                            started = time.monotonic()
                            while True:
                                response = await client.post(
                                    f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
                                    content=body, headers=headers,
                                )  # fmt: skip
                                if response.status_code not in (429, 503):
                                    break
                                await asyncio.sleep(0.05)
                            times.append(time.monotonic() - started)
                            statuses.append(response.status_code)

                    began = time.monotonic()
                    await asyncio.gather(*(client_loop() for _ in range(connections)))
                    took = time.monotonic() - began
                await wait_until_processed(url, unique, within=600)
            finally:
                await process.stop()
            errors = process.errors()
    times.sort()
    return {
        "answers": len(times),
        "ok": statuses.count(200),
        "seconds": took,
        "slowest": times[-1],
        "p99": times[int(len(times) * 0.99) - 1],
        "median": statistics.median(times),
        "over_1s": sum(1 for t in times if t > 1.0),
        "errors_logged": len(errors),
    }


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    connections = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    load = os.getloadavg()[0]
    figures = asyncio.run(measure(total, connections))
    print(
        f"{figures['answers']} answers ({figures['ok']} × 200) in {figures['seconds']:.1f} s at "
        f"{connections} connections, load {load:.1f}: slowest {figures['slowest']:.3f} s, "
        f"p99 {figures['p99']:.3f} s, median {figures['median'] * 1000:.0f} ms, "
        f"{figures['over_1s']} over a second, {figures['errors_logged']} errors logged"
    )


if __name__ == "__main__":
    main()
