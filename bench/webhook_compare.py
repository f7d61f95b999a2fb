"""Peerline against a bare PTB echo bot: same burst, same sink, same rounds; ratios per round.

Run: .venv/bin/python -m bench.webhook_compare [UPDATES] [ROUNDS] [SCREEN_MODEL]
     (defaults 2000, 3, true; SCREEN_MODEL=false screens with the lexicons alone)
Each round runs, one after another on this machine: the bare bot (bench/bare_ptb.py), Peerline
on SQLite, on PostgreSQL, and on PostgreSQL with four processes (three web, one worker; all four
process the journal). The burst is UPDATES private-chat messages at 40 connections, half of them
the first message of a new woman; the sink is the fake Bot API. Channel rate limits are lifted so
that replies/s means throughput. After its burst has drained, the four-process set also gets
UPDATES/4 more updates paced at 0.20 × the round's bare accept rate (half the durable-inbound
target of 0.40 ×), and the webhook's answer time (the 200 comes only once the update is
committed) is reported as p50/p99. The load average is recorded with every run.
"""

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass

import asyncpg
import httpx
from sqlalchemy import func, select

from bot import migrate
from handlers.telegram.channel import SECRET_HEADER, WEBHOOK_PATH
from models import OutboxMessage, OutboxStatus, ProcessedInbound
from models.db import make_engine, make_session_factory
from tests.fakes.telegram_api import FakeBotAPI, make_message_update
from tests.processes import PeerlineProcess, free_port, service_env

CONNECTIONS = 40
PG_ADMIN = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
TICKS = os.sysconf("SC_CLK_TCK")


PACED_SHARE = 0.20  # of the bare accept rate: half the 0.40 target


@dataclass
class Figures:
    accepted_per_s: float
    replies_per_s: float
    cpu_ms_per_update: float
    drain_s: float
    load_average: float = 0.0
    paced_p50_ms: float | None = None
    paced_p99_ms: float | None = None


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def burst(count: int, first: int = 0) -> list[dict]:
    """Half first messages of new women, half their second message."""
    chats = count // 2
    return [
        make_message_update(900_000 + first + (i % chats), f"hello {i}", update_id=1 + first + i)
        for i in range(count)
    ]


async def paced(url: str, path: str, secret: str, updates: list[dict], rate: float) -> list[float]:
    """POST the updates at a steady `rate` per second; each call's answer time in seconds."""
    headers = {SECRET_HEADER: secret}
    limits = httpx.Limits(max_connections=CONNECTIONS, keepalive_expiry=2)
    times: list[float] = []
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:

        async def post(at: float, update: dict) -> None:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            for _ in range(3):
                started = time.perf_counter()
                try:
                    response = await client.post(url + path, json=update, headers=headers)
                except httpx.TransportError:
                    continue
                if response.status_code == 200:
                    times.append(time.perf_counter() - started)
                return

        start = time.perf_counter() + 0.2
        await asyncio.gather(*(post(start + i / rate, u) for i, u in enumerate(updates)))
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def fire(urls: list[str], path: str, secret: str | None, updates: list[dict]) -> float:
    """POST every update, CONNECTIONS at a time over the given servers; accepted per second."""
    headers = {SECRET_HEADER: secret} if secret else {}
    gate = asyncio.Semaphore(CONNECTIONS)
    accepted = 0
    limits = httpx.Limits(
        max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS, keepalive_expiry=2
    )
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:

        async def post(i: int, update: dict) -> None:
            nonlocal accepted
            url = urls[i % len(urls)] + path
            async with gate:
                for _ in range(3):  # a kept-alive connection the server just closed: again
                    try:
                        response = await client.post(url, json=update, headers=headers)
                    except httpx.TransportError:
                        continue
                    accepted += response.status_code == 200
                    return

        started = time.perf_counter()
        await asyncio.gather(*(post(i, u) for i, u in enumerate(updates)))
        elapsed = time.perf_counter() - started
    return accepted / elapsed


async def settle(api: FakeBotAPI, done) -> float:
    """Wait until `done()` and no new reply for a moment; monotonic time of the last reply."""
    last_count, quiet_since = -1, time.monotonic()
    while True:
        count = len(api.calls_to("sendMessage"))
        if count != last_count:
            last_count, quiet_since = count, time.monotonic()
        elif time.monotonic() - quiet_since > 1.0 and await done():
            break
        await asyncio.sleep(0.1)
    calls = api.calls_to("sendMessage")
    return max(c.at for c in calls) if calls else time.monotonic()


async def run_bare(updates: list[dict]) -> Figures:
    async with FakeBotAPI() as api:
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.bare_ptb", str(port), api.base_url.removesuffix("/bot"),
            api.token, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stdout is not None
        while b"ready" not in await process.stdout.readline():
            pass

        async def done() -> bool:
            return len(api.calls_to("sendMessage")) >= len(updates)

        try:
            cpu0, t0 = cpu_seconds([process.pid]), time.monotonic()
            rate = await fire([f"http://127.0.0.1:{port}"], "/telegram", None, updates)
            acked = time.monotonic()
            last = await settle(api, done)
            cpu = cpu_seconds([process.pid]) - cpu0
        finally:
            process.terminate()
            await process.wait()
        replies = len(api.calls_to("sendMessage"))
        return Figures(rate, replies / (last - t0), 1000 * cpu / len(updates), last - acked,
                       os.getloadavg()[0])  # fmt: skip


async def run_peerline(
    url: str,
    updates: list[dict],
    web: int,
    workers: int,
    screen_model: bool,
    paced_rate: float | None = None,
) -> Figures:
    engine = make_engine(url)
    await migrate.upgrade(engine)
    sessions = make_session_factory(engine)

    async def done() -> bool:
        async with sessions() as session:
            waiting = select(func.count()).where(ProcessedInbound.payload.is_not(None))
            queued = select(func.count()).where(
                OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
            )
            return (await session.execute(waiting)).scalar_one() == 0 and (
                await session.execute(queued)
            ).scalar_one() == 0

    async with FakeBotAPI() as api:
        lifted = {
            "telegram_bot_token": api.token,
            "telegram_api_base_url": api.base_url.removesuffix("/bot"),
            "telegram_rate_per_second": 1_000_000,
            "telegram_chat_rate_per_second": 1_000_000,
            "flood_max_messages": 1000,
            "scheduler_tick_seconds": 60,
            "inbound_lease_seconds": 30,
            "screen_model": str(screen_model).lower(),
        }
        ports = [free_port() for _ in range(web)]
        processes = []
        for port in ports:
            env = service_env(url, public_url=f"http://127.0.0.1:{port}", port=port, **lifted)
            args = ["run", "--no-migrate"] + (["--web-only"] if workers else [])
            processes.append(PeerlineProcess(args, env))
        for _ in range(workers):
            processes.append(PeerlineProcess(["worker"], service_env(url, **lifted)))
        for process in processes:
            ready = "worker is running" if process.args[0] == "worker" else "listening on"
            await process.start(ready=ready)
        try:
            pids = [p.process.pid for p in processes if p.process is not None]
            cpu0, t0 = cpu_seconds(pids), time.monotonic()
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            rate = await fire(urls, WEBHOOK_PATH, api.webhook_secret, updates)
            acked = time.monotonic()
            last = await settle(api, done)
            cpu = cpu_seconds(pids) - cpu0
            load = os.getloadavg()[0]
            replies = len(api.calls_to("sendMessage"))
            figures = Figures(rate, replies / (last - t0), 1000 * cpu / len(updates),
                              last - acked, load)  # fmt: skip
            if paced_rate is not None:
                more = burst(max(len(updates) // 4, 100), first=len(updates))
                times = []
                for i, url_ in enumerate(urls):  # spread over the web processes, as balanced
                    times.append(paced(url_, WEBHOOK_PATH, api.webhook_secret or "",
                                       more[i :: len(urls)], paced_rate / len(urls)))  # fmt: skip
                answered = [t for ts in await asyncio.gather(*times) for t in ts]
                figures.paced_p50_ms = 1000 * percentile(answered, 0.50)
                figures.paced_p99_ms = 1000 * percentile(answered, 0.99)
                await settle(api, done)
        finally:
            for process in processes:
                await process.stop()  # never leave a service running after a failed round
    await engine.dispose()
    return figures


async def fresh_postgres() -> tuple[str, str]:
    admin = await asyncpg.connect(PG_ADMIN.replace("+asyncpg", ""))
    name = f"peerline_bench_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", name


async def drop_postgres(name: str) -> None:
    admin = await asyncpg.connect(PG_ADMIN.replace("+asyncpg", ""))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


FOUR = "Peerline, PG, 3 web + 1 worker"


async def one_round(count: int, screen_model: bool) -> dict[str, Figures]:
    updates = burst(count)
    figures = {"bare PTB": await run_bare(updates)}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        figures["Peerline, SQLite"] = await run_peerline(url, updates, 1, 0, screen_model)
    pace = PACED_SHARE * figures["bare PTB"].accepted_per_s
    for label, web, workers in (("Peerline, PG", 1, 0), (FOUR, 3, 1)):
        url, name = await fresh_postgres()
        try:
            figures[label] = await run_peerline(
                url, updates, web, workers, screen_model, pace if label == FOUR else None
            )
        finally:
            await drop_postgres(name)
    return figures


def table(rounds: list[dict[str, Figures]]) -> str:
    labels = list(rounds[0])

    def median(label: str, pick) -> float:
        return statistics.median(pick(r[label], r["bare PTB"]) for r in rounds)

    rows = [
        ("updates made durable /s", lambda f, b: f.accepted_per_s, "{:.0f}"),
        ("durable ÷ bare PTB's accept rate", lambda f, b: f.accepted_per_s / b.accepted_per_s,
         "{:.2f}"),
        ("replies (sendMessage) /s", lambda f, b: f.replies_per_s, "{:.0f}"),
        ("replies ÷ bare PTB", lambda f, b: f.replies_per_s / b.replies_per_s, "{:.2f}"),
        ("CPU ms per update (our processes)", lambda f, b: f.cpu_ms_per_update, "{:.1f}"),
        ("seconds to drain after the burst", lambda f, b: f.drain_s, "{:.1f}"),
        ("load average (1 min) at the end of the run", lambda f, b: f.load_average, "{:.1f}"),
    ]  # fmt: skip
    lines = ["| | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for name, pick, fmt in rows:
        cells = []
        for label in labels:
            value = fmt.format(median(label, pick))
            if label == "bare PTB" and name.startswith("updates made durable"):
                value = f"— (memory only; accepts {value}/s)"
            cells.append(value)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    p50 = statistics.median(r[FOUR].paced_p50_ms or 0.0 for r in rounds)
    p99 = statistics.median(r[FOUR].paced_p99_ms or 0.0 for r in rounds)
    pace = statistics.median(PACED_SHARE * r["bare PTB"].accepted_per_s for r in rounds)
    lines.append(f"\n{FOUR}, paced at {pace:.0f} updates/s (0.20 × bare accept): webhook "
                 f"answered (committed) p50 {p50:.0f} ms, p99 {p99:.0f} ms")  # fmt: skip
    return "\n".join(lines)


async def main(count: int, rounds: int, screen_model: bool) -> None:
    results = []
    for number in range(1, rounds + 1):
        results.append(await one_round(count, screen_model))
        print(f"round {number}/{rounds} done", file=sys.stderr, flush=True)
        bare = results[-1]["bare PTB"]
        for label, f in results[-1].items():
            durable = f.accepted_per_s / bare.accepted_per_s
            replies = f.replies_per_s / bare.replies_per_s
            print(f"  {label}: {f}; durable ÷ bare accept {durable:.2f}, replies ÷ bare "
                  f"{replies:.2f}", file=sys.stderr, flush=True)  # fmt: skip
    model = "on" if screen_model else "off (SCREEN_MODEL=false)"
    print(f"{count} updates at {CONNECTIONS} connections, screen model {model}, "
          f"median of {rounds} rounds:\n")  # fmt: skip
    print(table(results))


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    model_arg = sys.argv[3] if len(sys.argv) > 3 else "true"
    screen_model = model_arg.lower() not in ("false", "0", "off")
    asyncio.run(main(count, rounds, screen_model))
