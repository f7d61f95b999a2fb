"""Real `peerline` processes for crash and concurrency tests: started, killed, restarted."""

import asyncio
import contextlib
import os
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from models import ProcessedInbound
from models.db import make_engine, make_session_factory
from tests.support import TEST_SECRET

PEERLINE = str(Path(sys.executable).parent / "peerline")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(database_url: str, **extra: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "TWILIO"))}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=TEST_SECRET,
        ENV="test",
        HOST="127.0.0.1",
        PYTHONUNBUFFERED="1",
        INBOUND_LEASE_SECONDS="2",
    )
    env.update({k.upper(): str(v) for k, v in extra.items()})
    return env


@dataclass
class PeerlineProcess:
    """One `peerline` process; its stderr is kept so a test can look for tracebacks."""

    args: list[str]
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None
    stderr: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    async def start(self, ready: str | None = "listening on", within: float = 60.0) -> None:
        self.process = await asyncio.create_subprocess_exec(
            PEERLINE, *self.args, env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        self._reader = asyncio.create_task(self._read_stderr())
        if ready is None:
            return
        assert self.process.stdout is not None
        async with asyncio.timeout(within):
            while True:
                line = (await self.process.stdout.readline()).decode()
                if not line:
                    raise AssertionError("peerline exited:\n" + "".join(self.stderr[-40:]))
                if ready in line:
                    return

    async def _read_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.stderr.append(line.decode(errors="replace"))

    def kill(self) -> None:
        """kill -9: no clean-up of any kind."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)

    async def stop(self, sig: int = signal.SIGTERM, within: float = 20.0) -> int:
        if self.process is None or self.process.returncode is not None:
            return self.process.returncode if self.process else 0
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(sig)
        try:
            async with asyncio.timeout(within):
                code = await self.process.wait()
        except TimeoutError:
            self.kill()
            code = await self.process.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)
        return code

    def errors(self) -> list[str]:
        return [line for line in self.stderr if "Traceback" in line or " ERROR " in line]


async def wait_until_processed(database_url: str, expected: int, within: float = 240.0) -> None:
    """Until the journal holds `expected` rows and none is waiting (a bound, not a timing)."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        async with asyncio.timeout(within):
            while True:
                async with sessions() as session:
                    total = (
                        await session.execute(select(func.count()).select_from(ProcessedInbound))
                    ).scalar_one()
                    waiting = (
                        await session.execute(
                            select(func.count()).where(ProcessedInbound.payload.is_not(None))
                        )
                    ).scalar_one()
                if total >= expected and waiting == 0:
                    return
                await asyncio.sleep(0.2)
    finally:
        await engine.dispose()
