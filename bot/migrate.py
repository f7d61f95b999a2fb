"""Run alembic from inside the running event loop, on the service's own engine."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    def _upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(str(engine.url), connection), revision)

    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    def _downgrade(connection: Connection) -> None:
        command.downgrade(alembic_config(str(engine.url), connection), revision)

    async with engine.begin() as connection:
        await connection.run_sync(_downgrade)
