"""Anonymous counters per day: what is left of a conversation once its details are purged."""

from datetime import date

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

# Upper edges in minutes; the last bucket is open. The purge keeps the bucket, never the time.
WAIT_EDGES = (5, 15, 60, 240, 1440)
LENGTH_EDGES = (15, 60, 180, 1440)


def bucket(minutes: float, edges: tuple[int, ...]) -> str:
    """The name of the bucket `minutes` falls in: "lt5", "5_15", …, "ge1440"."""
    lower = 0
    for edge in edges:
        if minutes < edge:
            return f"lt{edge}" if lower == 0 else f"{lower}_{edge}"
        lower = edge
    return f"ge{lower}"


def bucket_names(edges: tuple[int, ...]) -> list[str]:
    names, lower = [], 0
    for edge in edges:
        names.append(f"lt{edge}" if lower == 0 else f"{lower}_{edge}")
        lower = edge
    return [*names, f"ge{lower}"]


def bucket_middle(name: str) -> float:
    """A purged wait or length stands in for its bucket's middle (or lower edge, if open)."""
    if name.startswith("lt"):
        return int(name[2:]) / 2
    if name.startswith("ge"):
        return float(name[2:])
    low, high = name.split("_")
    return (int(low) + int(high)) / 2


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
