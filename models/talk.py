"""A supporter and a coordinator talking through the bot, each known to the other by an alias."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class TalkStatus(StrEnum):
    WAITING = "waiting"  # the coordinators were asked; nobody has taken it yet
    OPEN = "open"
    ENDED = "ended"


class CoordinatorTalk(Base):
    """One supporter's wish to talk, and the coordinator who took it; never their words."""

    __tablename__ = "coordinator_talks"

    id: Mapped[int] = mapped_column(primary_key=True)
    supporter_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    coordinator_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=TalkStatus.WAITING, index=True)
    reason: Mapped[str] = mapped_column(String(16))  # asked / checkin_heavy / weekly_talk …
    alerted: Mapped[list[int]] = mapped_column(JSON, default=list)  # coordinators who were asked
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(16))  # supporter / coordinator / system
