"""No pre-ping on every checkout: a connection PostgreSQL dropped fails once and is replaced."""

import asyncpg
from sqlalchemy import func, select

from bot.router import Outcome
from models import OutboxMessage
from tests.support import running_service
from tests.test_router import echo_router, text


async def test_her_message_after_postgres_dropped_every_connection_is_handled(postgres_url):
    async with running_service(postgres_url) as service:
        router = echo_router(service)
        assert await router.handle(text("555", "first", "d1")) == Outcome.HANDLED
        # A restart or fail-over of PostgreSQL: every pooled connection is dead.
        admin = await asyncpg.connect(
            postgres_url.replace("postgresql+asyncpg://", "postgresql://")
        )
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        assert await router.handle(text("555", "second", "d2")) == Outcome.HANDLED
        async with service.session_factory() as session:
            rows = (await session.execute(select(func.count(OutboxMessage.id)))).scalar_one()
        assert rows == 2  # her two replies, and no apology
