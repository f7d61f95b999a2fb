"""What every command group shares: settings that fail with a clear line, and one database session.

It sits below `bot.cli` and the `cli_*` groups, so the groups need nothing from the entry point.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings, SettingsError, load_settings
from models import sealed
from models.db import make_engine, make_session_factory

T = TypeVar("T")


def cli_settings(**overrides: object) -> Settings:
    """The configured settings; a wrong value ends the command with exit code 2 and one line."""
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


def run_in_session(
    work: Callable[[AsyncSession, Settings], Awaitable[T]], *, transaction: bool = True
) -> T:
    """Run `work(session, settings)` against the configured database, in one transaction unless
    `work` commits by itself (a campaign is queued in batches)."""
    settings = cli_settings()
    sealed.use_key(settings.resolved_secret_key())  # campaigns and reports hold words

    async def _run() -> T:
        engine = make_engine(settings.database_url)
        try:
            async with make_session_factory(engine)() as session:
                if not transaction:
                    return await work(session, settings)
                async with session.begin():
                    return await work(session, settings)
        finally:
            await engine.dispose()

    return asyncio.run(_run())
