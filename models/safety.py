"""Per-person marks the safety guards keep between messages (flood window, notices given)."""

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class GuardMark(Base):
    """One row per participant who has met a guard; deleted with her."""

    __tablename__ = "guard_marks"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    flood_window_start: Mapped[datetime | None]
    flood_count: Mapped[int] = mapped_column(default=0)
    flood_noticed: Mapped[bool] = mapped_column(default=False)  # told once in this window
    ban_notice_at: Mapped[datetime | None]  # the neutral "not available" line, once a day
    danger_notice_at: Mapped[datetime | None]  # help paths without a request, once a day
    noted_match_id: Mapped[int | None]  # her supporter got the guidance note in this match
    # A supporter's own words: coordinators told of a disclosure she relays, or of a proposal
    # to meet or move off the bot, at most once a day each.
    words_alert_at: Mapped[datetime | None]
    boundary_alert_at: Mapped[datetime | None]
