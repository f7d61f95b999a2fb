"""Anonymous counters per day: what is left of a conversation once its details are purged."""

from datetime import date

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class DailyCount(Base):
    """A named count for one day, e.g. ("2026-11-21", "erasures", 3); never a person."""

    __tablename__ = "daily_counts"
    __table_args__ = (UniqueConstraint("day", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(default=0)


async def increment(session: AsyncSession, day: date, name: str, by: int = 1) -> None:
    """Add to a counter in one statement, so two workers counting at once both count."""
    dialect = session.bind.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(DailyCount).values(day=day, name=name[:64], value=by)
    statement = statement.on_conflict_do_update(
        index_elements=[DailyCount.day, DailyCount.name],
        set_={"value": DailyCount.value + statement.excluded.value},
    )
    await session.execute(statement)
