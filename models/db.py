"""The async engine and session factory: no logged parameters; SQLite tuned for several workers
(WAL, one writer at a time in a process, a short busy timeout between processes)."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from models.sqlite_writes import serialise_writes

BUSY_SECONDS = 5.0


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    if url.startswith("sqlite"):
        # Writers of this process queue on one lock (models.sqlite_writes); the busy timeout
        # is only for other processes on the same file, and short: callers retry.
        engine = create_async_engine(
            url, echo=echo, hide_parameters=True, connect_args={"timeout": BUSY_SECONDS}
        )
        serialise_writes(engine)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
            # Deleted rows are overwritten, so an erased person leaves nothing in the file.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    # No pre-ping (a rollback on every checkout): connections are recycled after 30 minutes,
    # and one that died anyway fails its statement, is invalidated, and the caller retries.
    return create_async_engine(url, echo=echo, hide_parameters=True, pool_recycle=1800)


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def make_read_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for a single read: on PostgreSQL in autocommit, so a look-up costs one round
    trip instead of three (BEGIN, the query, ROLLBACK). SQLite opens no transaction to read."""
    if engine.dialect.name != "postgresql":
        return make_session_factory(engine)
    return make_session_factory(engine.execution_options(isolation_level="AUTOCOMMIT"))


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


def insert_new(dialect: str, model: Any) -> Any:
    """An INSERT that skips rows whose key is already there, without raising (ON CONFLICT DO
    NOTHING): a duplicate is an answer, not an exception left in a reference cycle."""
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(model).on_conflict_do_nothing()


async def truncate_wal(engine: AsyncEngine) -> None:
    """After a purge on SQLite: copy the WAL into the file and empty it, so deleted rows (already
    overwritten there by secure_delete) leave no older page behind in the WAL either."""
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as connection:
        await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
