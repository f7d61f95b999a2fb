"""The schema comes from migrations only, and the models never disagree with the newest one."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot import migrate
from models import Base
from models.db import make_engine


async def test_upgrade_to_head_and_downgrade_to_base(database_url):
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert set(Base.metadata.tables) <= tables
        await migrate.downgrade(engine, "base")
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert tables <= {"alembic_version"}
    finally:
        await engine.dispose()


async def test_autogenerate_finds_no_difference_between_models_and_migrations(database_url):
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                )
            )
        assert diff == []
    finally:
        await engine.dispose()
