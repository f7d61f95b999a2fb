"""The `peerline` command line."""

import asyncio
import contextlib
import errno
import ipaddress
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import typer
import uvicorn

from bot import (
    cli_audit,
    cli_campaign,
    cli_coordinator,
    cli_moderation,
    cli_safety,
    cli_statistics,
    runtime,
)
from bot import migrate as migrations
from bot.app import Peerline
from bot.channels import attach_channels
from bot.cli_base import cli_settings
from bot.console_client import ConsoleUnreachable, chat
from bot.doctor import diagnose, screen_of
from bot.privacy import new_secret_key
from bot.settings import Settings, SettingsError
from bot.web import create_web_app
from handlers.base import ChannelStartError
from models.db import make_engine

app = typer.Typer(help="Peerline: anonymous peer support for migrant and refugee women.",
                  no_args_is_help=True, add_completion=False)  # fmt: skip


def version() -> str:
    try:
        return metadata.version("peerline")
    except metadata.PackageNotFoundError:
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"peerline {version()}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Peerline: anonymous peer support for migrant and refugee women."""


SUPPORTER_HINT = """\
To play the supporter too, in a second terminal (same folder):
  .venv/bin/peerline invite create               prints a one-time CODE
  .venv/bin/peerline chat --as supporter --url {base}
                                                 then type: join CODE, and write her profile
  .venv/bin/peerline supporter approve ALIAS     then, as the supporter: /available
"""


def _configure_logging(settings: Settings) -> None:
    runtime.configure_logging(settings.log_level, settings.log_format)


@app.command()
def run(
    host: str = typer.Option(None, help="Address to listen on (HOST)."),
    port: int = typer.Option(None, help="Port to listen on (PORT); 0 picks a free one."),
    migrate: bool = typer.Option(True, help="Migrate the database to the newest schema first."),
    console: bool = typer.Option(
        False, help="Open the local console channel (loopback only, never with PUBLIC_URL)."
    ),
    chat_here: bool = typer.Option(
        True, "--chat/--no-chat", help="With --console, chat in this terminal as a help-seeker."
    ),
    web_only: bool = typer.Option(False, help="Serve webhooks only; leave sending to workers."),
) -> None:
    """Start the service: web edge, outbox sender, scheduler and the configured channels."""
    settings = cli_settings(host=host, port=port)
    if console:
        _console_allowed(settings)
    _configure_logging(settings)
    try:
        runtime.run(
            _serve(
                settings, migrate=migrate, console=console, chat_here=chat_here, web_only=web_only
            )
        )
    except KeyboardInterrupt:
        pass
    _exit_at_once()


def _console_allowed(settings: Settings) -> None:
    """The console has no authentication: it is a development tool on this machine only."""
    problem = None
    if settings.public_url:
        problem = "--console is for development: unset PUBLIC_URL, or run without --console"
    elif settings.env == "production":
        problem = "--console is for development: ENV=production never opens it"
    elif not _loopback(settings.host):
        problem = f"--console listens on loopback only: set HOST=127.0.0.1 (not {settings.host})"
    if problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


async def _serve(
    settings: Settings, *, migrate: bool, console: bool, chat_here: bool, web_only: bool
) -> None:
    sock = _bind(settings.host, settings.port)  # a taken port is one line, before anything
    service = Peerline(settings)
    if migrate:
        await migrations.upgrade(service.engine)
    attach_channels(service)
    web = create_web_app(service, manage_service=False, open_console=console)
    config = uvicorn.Config(web, log_level="warning", timeout_graceful_shutdown=2,
                            lifespan="on")  # fmt: skip
    server = _Server(config, service)
    try:
        await service.start(sender=not web_only, scheduler=not web_only)
    except BaseException:
        sock.close()
        await service.stop()
        raise
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if serving.done():
                serving.result()
                raise typer.Exit(1)
            await asyncio.sleep(0.05)
        base = f"http://{settings.host}:{sock.getsockname()[1]}"
        print(f"Peerline is listening on {base} (health: {base}/healthz)", flush=True)
        if console and chat_here and service.console is not None:
            print(SUPPORTER_HINT.format(base=base), flush=True)
            talking = asyncio.create_task(chat(base, "seeker"))
            await asyncio.wait({talking, serving}, return_when=asyncio.FIRST_COMPLETED)
            talking.cancel()  # Ctrl-C stops the server at once, whatever she was typing
            server.should_exit = True
        await serving
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(serving, timeout=5)
        await service.stop()


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, or one line that says what to change."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise SettingsError(
                f"port {port} on {host} is taken: stop what uses it, or set PORT to another one"
            ) from None
        problem = f"cannot listen on {host}:{port} ({error.strerror}): check HOST"
        raise SettingsError(problem) from None
    sock.listen(2048)
    return sock


class _Server(uvicorn.Server):
    """Open console polls end as soon as Ctrl-C or SIGTERM arrives, so it stops at once."""

    def __init__(self, config: uvicorn.Config, service: Peerline) -> None:
        super().__init__(config)
        self.service = service

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)
        if self.service.console is not None:
            self.service.console.close()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                # uvicorn raises the signals it caught again once it has stopped serving, and
                # a SIGTERM raised again kills the process before the service has stopped (its
                # lanes, sender and poller): a SIGTERM ends in `service.stop()` instead.
                self._captured_signals = [
                    sig for sig in self._captured_signals if sig != signal.SIGTERM
                ]


@app.command()
def worker(migrate: bool = typer.Option(False, help="Migrate the database first.")) -> None:
    """Run only the outbox sender and the scheduler (for a separate worker process)."""
    settings = cli_settings()
    _configure_logging(settings)

    async def _work() -> None:
        service = Peerline(settings)
        if migrate:
            await migrations.upgrade(service.engine)
        attach_channels(service)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        await service.start(receive=False)  # updates are received by `peerline run`
        print("Peerline worker is running", flush=True)
        health = await _health_port(service, settings)
        try:
            await stopping.wait()  # SIGTERM: finish what is in flight, give the rest back
        finally:
            await health.close()
            await service.stop()

    with contextlib.suppress(KeyboardInterrupt):
        runtime.run(_work())
    _exit_at_once()


def _exit_at_once() -> None:
    """The service has stopped and what it did is in the database: the interpreter's own
    teardown (seconds, with the sentence model's buffers and threads) is skipped, so a SIGTERM
    (`docker stop`) ends the process as soon as the service is down."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class _HealthServer(uvicorn.Server):
    """The worker's own port; signals stay with the worker, which stops it itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class _Health:
    server: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = None

    async def close(self) -> None:
        if self.server is not None and self.task is not None:
            self.server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.task, timeout=2)


async def _health_port(service: Peerline, settings: Settings) -> _Health:
    """/livez, /readyz, /healthz and /metrics of the worker on WORKER_PORT (0: none)."""
    if not settings.worker_port:
        return _Health()
    sock = _bind(settings.host, settings.worker_port)
    app = create_web_app(service, manage_service=False, health_only=True)
    server = _HealthServer(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    base = f"http://{settings.host}:{sock.getsockname()[1]}"
    print(f"Peerline worker: health and metrics on {base}", flush=True)
    return _Health(server, task)


@app.command()
def migrate(
    revision: str = typer.Argument("head", help="Target revision."),
    down: bool = typer.Option(False, help="Downgrade to REVISION instead (e.g. base)."),
) -> None:
    """Bring the database schema to REVISION (default: the newest)."""
    settings = cli_settings()

    async def _migrate() -> None:
        engine = make_engine(settings.database_url)
        try:
            if down:
                await migrations.downgrade(engine, revision)
            else:
                await migrations.upgrade(engine, revision)
        finally:
            await engine.dispose()

    asyncio.run(_migrate())
    typer.echo(f"database is at {revision}")


@app.command("chat")
def chat_command(
    as_: str = typer.Option("seeker", "--as", help="Who you are in this terminal, e.g. supporter."),
    url: str = typer.Option(None, help="The running service, default http://HOST:PORT."),
) -> None:
    """Chat with a running service through the console channel."""
    settings = cli_settings()
    base = url or f"http://{settings.host}:{settings.port}"
    try:
        asyncio.run(chat(base, as_))
    except KeyboardInterrupt:
        pass
    except ConsoleUnreachable as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


@app.command()
def doctor() -> None:
    """Check settings, database, migrations, catalogs, screening, Telegram, Twilio, key file."""
    settings = cli_settings()
    findings = runtime.run(diagnose(settings, screen=screen_of(settings)))
    for finding in findings:
        typer.echo(finding.line())
    if not all(finding.ok for finding in findings):
        raise typer.Exit(1)


@app.command()
def keygen() -> None:
    """Print a new SECRET_KEY. Changing the key makes stored addresses unreadable."""
    typer.echo(new_secret_key())


# Each part of the service brings its own commands (the supporter group before its additions).
for _commands in (cli_safety, cli_coordinator, cli_moderation, cli_campaign, cli_statistics,
                  cli_audit):  # fmt: skip
    _commands.register(app)


def main() -> None:
    try:
        app()
    except (SettingsError, ChannelStartError) as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
