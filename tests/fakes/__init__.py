"""Local HTTP doubles for the Telegram Bot API and the Twilio REST API.

The fakes live in their own modules (``tests.fakes.telegram_api``, ``tests.fakes.twilio_api``);
this package only holds the uvicorn harness both share, so that the real python-telegram-bot and
twilio clients talk real HTTP to a real server instead of to mocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

__all__ = ["LocalServer"]


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to pytest, so Ctrl-C still aborts a run."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class LocalServer:
    """Serve an ASGI app on ``127.0.0.1:<free port>`` inside the running event loop.

    The socket is bound before uvicorn starts, so the port is known (and race-free) at once and
    tests never sleep waiting for a port. ``stop()`` returns once uvicorn has closed every
    connection, which keeps one test's server from leaking into the next.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._sock: socket.socket | None = None
        self.port: int = 0

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._sock, self.port = sock, sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            lifespan="off",
            log_config=None,  # never reconfigure the test run's logging
            log_level="warning",
            access_log=False,
            ws="none",
            timeout_graceful_shutdown=2,
        )
        self._server = _QuietServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():  # startup failed: surface uvicorn's exception
                await self._task
                raise RuntimeError("uvicorn exited during startup")
            await asyncio.sleep(0.001)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            await self._task
        finally:
            if self._sock is not None:
                self._sock.close()
            self._server = self._task = self._sock = None
