"""The `peerline` command line."""

import asyncio
import contextlib
import logging
import sys

import typer
import uvicorn

from bot import cli_campaign, cli_coordinator, cli_moderation, cli_safety, cli_statistics
from bot import migrate as migrations
from bot.app import Peerline
from bot.channels import attach_channels
from bot.cli_base import cli_settings
from bot.console_client import chat
from bot.privacy import new_secret_key
from bot.settings import Settings, SettingsError
from bot.web import create_web_app
from models.db import make_engine

app = typer.Typer(help="Peerline: anonymous peer support for migrant and refugee women.",
                  no_args_is_help=True, add_completion=False)  # fmt: skip


SUPPORTER_HINT = """\
To play the supporter too, in a second terminal (same folder):
  .venv/bin/peerline invite create               prints a one-time CODE
  .venv/bin/peerline chat --as supporter --url {base}
                                                 then type: join CODE, and write her profile
  .venv/bin/peerline supporter approve ALIAS     then, as the supporter: /available
"""


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "apscheduler", "uvicorn.access", "telegram.ext", "twilio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@app.command()
def run(
    host: str = typer.Option(None, help="Address to listen on (HOST)."),
    port: int = typer.Option(None, help="Port to listen on (PORT); 0 picks a free one."),
    migrate: bool = typer.Option(True, help="Migrate the database to the newest schema first."),
    console: bool = typer.Option(False, help="Also chat in this terminal as a help-seeker."),
    web_only: bool = typer.Option(False, help="Serve webhooks only; leave sending to workers."),
) -> None:
    """Start the service: web edge, outbox sender, scheduler and the configured channels."""
    settings = cli_settings(host=host, port=port)
    _configure_logging()
    try:
        asyncio.run(_serve(settings, migrate=migrate, console=console, web_only=web_only))
    except KeyboardInterrupt:
        pass


async def _serve(settings: Settings, *, migrate: bool, console: bool, web_only: bool) -> None:
    service = Peerline(settings)
    if migrate:
        await migrations.upgrade(service.engine)
    attach_channels(service)
    web = create_web_app(service, manage_service=False)
    config = uvicorn.Config(web, host=settings.host, port=settings.port, log_level="warning",
                            timeout_graceful_shutdown=2,
                            lifespan="on")  # fmt: skip
    server = uvicorn.Server(config)
    await service.start(sender=not web_only, scheduler=not web_only)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()
                raise typer.Exit(1)
            await asyncio.sleep(0.05)
        bound_port = server.servers[0].sockets[0].getsockname()[1]
        base = f"http://{settings.host}:{bound_port}"
        print(f"Peerline is listening on {base} (health: {base}/healthz)", flush=True)
        if console and service.console is not None:
            print(SUPPORTER_HINT.format(base=base), flush=True)
            await chat(base, "seeker")
            server.should_exit = True
        await serving
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(serving, timeout=5)
        await service.stop()


@app.command()
def worker(migrate: bool = typer.Option(False, help="Migrate the database first.")) -> None:
    """Run only the outbox sender and the scheduler (for a separate worker process)."""
    settings = cli_settings()
    _configure_logging()

    async def _work() -> None:
        service = Peerline(settings)
        if migrate:
            await migrations.upgrade(service.engine)
        attach_channels(service)
        await service.start(receive=False)  # updates are received by `peerline run`
        try:
            await asyncio.Event().wait()
        finally:
            await service.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_work())


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
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(chat(base, as_))


@app.command()
def keygen() -> None:
    """Print a new SECRET_KEY. Changing the key makes stored addresses unreadable."""
    typer.echo(new_secret_key())


# Each part of the service brings its own commands (the supporter group before its additions).
for _commands in (cli_safety, cli_coordinator, cli_moderation, cli_campaign, cli_statistics):
    _commands.register(app)


def main() -> None:
    try:
        app()
    except SettingsError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
