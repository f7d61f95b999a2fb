"""Where one Peerline process spends an update, and how many SQL statements it takes.

Run: .venv/bin/python -m bench.profile_update [UPDATES] [sqlite|postgres] [model|nomodel]
       (defaults 600, postgres, model; needs `pip install py-spy`, the `bench` extra)
One `peerline run` (webhook mode, its own sender) on a fresh database receives the same burst as
bench.webhook_compare (half first messages of new women) after a warm-up of 40 updates. py-spy
samples it during the burst and until every reply is sent; SQLAlchemy's engine events (in
bench.sql_counts, not in the service) count the statements. Prints samples by the package that
was running, the hottest functions of ours, and statements, commits and rollbacks per update.
"""

import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.webhook_compare import burst, cpu_seconds, drop_postgres, fire, fresh_postgres, settle
from bot import migrate
from handlers.telegram.channel import WEBHOOK_PATH
from models import OutboxMessage, OutboxStatus, ProcessedInbound
from models.db import make_engine, make_session_factory
from tests.fakes.telegram_api import FakeBotAPI
from tests.processes import free_port, service_env

WARM_UP = 40
OURS = ("bot", "flows", "handlers", "models", "i18n")


def owner(frame: str) -> str | None:
    """The package a sampled frame belongs to; None for the standard library."""
    path = frame.rsplit("(", 1)[-1]
    if "site-packages/" in path:
        package = path.split("site-packages/", 1)[1].split("/", 1)[0]
        return package.removesuffix(".py").split(".")[0].split("-")[0]
    for package in OURS:
        if f"/{package}/" in path and "/lib/python" not in path:
            return f"peerline {package}/"
    return None


IDLE = ("concurrent/futures/thread.py", "threading.py")  # a worker thread waiting for work


def summarise(raw: Path) -> tuple[Counter[str], Counter[str], Counter[str], int]:
    """Busy samples by thread, by the innermost non-standard-library frame's package, and ours
    by function (inclusive, main thread only)."""
    threads: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames, count = stack.split(";"), int(count_text)
        if any(idle in frames[-1] for idle in IDLE):
            continue
        total += count
        thread = frames[0].split(": ", 1)[-1].rstrip("_0123456789")
        threads[thread] += count
        leaf = next((o for o in map(owner, reversed(frames)) if o), "python stdlib")
        by_package[leaf] += count
        if thread != "MainThread":
            continue
        seen = set()
        for frame in frames:
            if (o := owner(frame)) and o.startswith("peerline"):
                name = frame.split(" (", 1)[0]
                where = Path(frame.rsplit("(", 1)[-1].split(":")[0])
                key = f"{where.parent.name}/{where.stem}.{name}"
                if key not in seen:
                    seen.add(key)
                    ours[key] += count
    return threads, by_package, ours, total


async def measure(count: int, backend: str, model: bool) -> None:
    updates = burst(count + WARM_UP)
    warm, load = updates[:WARM_UP], updates[WARM_UP:]
    work = Path(tempfile.mkdtemp(prefix="peerline-profile-"))
    name = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{work}/bench.db"
    else:
        url, name = await fresh_postgres()
    engine = make_engine(url)
    await migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    from sqlalchemy import func, select

    async def done() -> bool:
        async with sessions() as session:
            waiting = select(func.count()).where(ProcessedInbound.payload.is_not(None))
            queued = select(func.count()).where(
                OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
            )
            return (await session.execute(waiting)).scalar_one() == 0 and (
                await session.execute(queued)
            ).scalar_one() == 0

    counts = work / "sql.json"
    try:
        async with FakeBotAPI() as api:
            port = free_port()
            env = service_env(
                url, public_url=f"http://127.0.0.1:{port}", port=port,
                telegram_bot_token=api.token,
                telegram_api_base_url=api.base_url.removesuffix("/bot"),
                telegram_rate_per_second=1_000_000, telegram_chat_rate_per_second=1_000_000,
                flood_max_messages=1000, scheduler_tick_seconds=60, inbound_lease_seconds=30,
                screen_model=str(model).lower(),
            )  # fmt: skip
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.sql_counts", str(counts), "run", "--no-migrate",
                env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            assert process.stdout is not None
            while b"listening on" not in (line := await process.stdout.readline()):
                if not line:
                    raise SystemExit("peerline did not start")
            base = f"http://127.0.0.1:{port}"
            await fire([base], WEBHOOK_PATH, api.webhook_secret, warm)
            await settle(api, done)
            process.send_signal(signal.SIGUSR1)
            await asyncio.sleep(0.5)
            before = json.loads(counts.read_text())
            replies_before = len(api.calls_to("sendMessage"))
            raw = Path(tempfile.gettempdir()) / f"peerline-profile-{backend}-{model}.txt"
            spy = await asyncio.create_subprocess_exec(
                shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"),
                "record", "--pid", str(process.pid), "--format", "raw", "--rate", "100",
                "--threads", "--full-filenames", "-o", str(raw), stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            await asyncio.sleep(1.0)
            cpu0, started = cpu_seconds([process.pid]), time.monotonic()
            await fire([base], WEBHOOK_PATH, api.webhook_secret, load)
            await settle(api, done)
            elapsed = time.monotonic() - started
            cpu = cpu_seconds([process.pid]) - cpu0
            spy.send_signal(signal.SIGINT)
            await spy.wait()
            process.send_signal(signal.SIGUSR1)
            await asyncio.sleep(0.5)
            after = json.loads(counts.read_text())
            replies = len(api.calls_to("sendMessage")) - replies_before
            process.terminate()
            await process.wait()
        threads, by_package, ours, total = summarise(raw)
        load_average = os.getloadavg()[0]
        print(f"{count} updates on {backend}, screen model {'on' if model else 'off'}: "
              f"{elapsed:.1f} s, {replies} replies, load average {load_average:.1f}")  # fmt: skip
        print(f"CPU {1000 * cpu / count:.1f} ms per update (this process)")
        print(f"\nbusy samples ({total}, raw stacks in {raw}) by thread:")
        for thread, n in threads.most_common():
            print(f"  {100 * n / total:5.1f} %  {thread}")
        print("by the package running:")
        for package, n in by_package.most_common(12):
            print(f"  {100 * n / total:5.1f} %  {package}")
        print("\nours, inclusive (main thread):")
        main = threads["MainThread"] or 1
        for function, n in ours.most_common(18):
            print(f"  {100 * n / main:5.1f} %  {function}")
        print(f"\nper processed update ({count}):")
        kinds = Counter(after["kinds"]) - Counter(before["kinds"])
        print("  " + ", ".join(f"{k} {v / count:.2f}" for k, v in kinds.most_common()))
        statements = Counter(after["statements"]) - Counter(before["statements"])
        print(f"  all statements {sum(statements.values()) / count:.2f}; the most frequent:")
        for text, n in statements.most_common(14):
            print(f"  {n / count:5.2f}  {text[:110]}")
    finally:
        await engine.dispose()
        if name is not None:
            await drop_postgres(name)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    backend = sys.argv[2] if len(sys.argv) > 2 else "postgres"
    model = (sys.argv[3] if len(sys.argv) > 3 else "model") == "model"
    asyncio.run(measure(count, backend, model))
