"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL when one is reachable."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest

from tests.support import PG_ADMIN_URL, postgres_reachable

_PG_OK: bool | None = None


def pg_available() -> bool:
    global _PG_OK
    if _PG_OK is None:
        _PG_OK = asyncio.run(postgres_reachable())
    return _PG_OK


def pytest_report_header(config: pytest.Config) -> str:
    if pg_available():
        return (
            f"PostgreSQL: reachable at {PG_ADMIN_URL.split('@')[-1]}; database tests run on it too"
        )
    return "PostgreSQL: NOT reachable; PostgreSQL variants of the database tests are SKIPPED"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if pg_available():
        return
    skip = pytest.mark.skip(reason="PostgreSQL not reachable (set TEST_DATABASE_URL)")
    for item in items:
        if "postgresql" in item.keywords or "[postgresql" in item.nodeid:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test picks up the developer's own configuration from the environment."""
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "TWILIO_")) or name in (
            "DATABASE_URL", "SECRET_KEY", "PUBLIC_URL", "ENV", "DEFAULT_LANGUAGE", "PORT", "HOST",
        ):  # fmt: skip
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
async def database_url(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[str]:
    """A fresh, empty database on each backend (PostgreSQL: a database of its own per test)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/peerline-test.db"
        return
    import asyncpg

    name = f"peerline_t_{uuid.uuid4().hex[:12]}"
    admin_dsn = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def postgres_url(database_url: str) -> str:
    """For tests that only mean something on PostgreSQL (row locks, real concurrency)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrency is proven on PostgreSQL; SQLite serialises writers anyway")
    return database_url
