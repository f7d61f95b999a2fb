"""On SQLite, one writing transaction at a time in this process, in the order they asked.

SQLite lets one connection write at a time. The others wait in its busy handler, which polls
with growing sleeps and keeps no order, so under load a webhook's journal commit could wait
seconds while the inbound lanes and the sender took the lock again and again. Here a
transaction takes an asyncio lock when it first writes and gives it back once it has committed
or rolled back: this process's writers queue first come, first served, without polling, and
SQLite's (short) busy timeout is left for other processes on the same file.

A writer that waits longer than `wait_seconds` gets SQLite's own "database is locked", which
callers already retry (the router, the sender's rounds) or answer with a 503 (the webhook).
"""

import asyncio
import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")


class WriteLock:
    def __init__(self, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._holder: Any = None  # the DBAPI connection whose transaction is writing

    def _current(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:  # a new event loop: a new lock
            self._lock, self._loop, self._holder = asyncio.Lock(), loop, None
        return self._lock

    async def _acquire(self, lock: asyncio.Lock) -> None:
        try:
            async with asyncio.timeout(self.wait_seconds):
                await lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None

    def before_statement(self, connection: Any, statement: str) -> None:
        if self._holder is connection or not statement.lstrip()[:7].upper().startswith(WRITES):
            return
        await_only(self._acquire(self._current()))
        self._holder = connection

    def after_transaction(self, connection: Any) -> None:
        if self._holder is not None and self._holder is connection:
            self._holder = None
            if self._lock is not None and self._lock.locked():
                self._lock.release()


def serialise_writes(engine: AsyncEngine, wait_seconds: float = 10.0) -> WriteLock:
    """Install the lock on a SQLite engine (called by `make_engine`)."""
    lock = WriteLock(wait_seconds)
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    def dbapi_of(connection: Any) -> Any:
        return getattr(connection, "dbapi_connection", connection)

    def on_execute(cursor: Any, statement: str, *rest: Any) -> None:
        context = rest[-1]  # (parameters, context), or (context,) without parameters
        lock.before_statement(context.root_connection.connection.dbapi_connection, statement)

    for name in ("do_execute", "do_executemany", "do_execute_no_params"):
        event.listen(sync_engine, name, on_execute)

    # The lock is given back after the commit or rollback itself, so the next writer never
    # finds SQLite's lock still held; and whenever a connection goes back to the pool.
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(connection: Any) -> None:
        try:
            commit(connection)
        finally:
            lock.after_transaction(dbapi_of(connection))

    def do_rollback(connection: Any) -> None:
        try:
            rollback(connection)
        finally:
            lock.after_transaction(dbapi_of(connection))

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]
    for name in ("checkin", "invalidate", "close"):
        event.listen(sync_engine.pool, name, lambda dbapi, *_: lock.after_transaction(dbapi))
    return lock
