"""What women tell us after a conversation: a score and a check-in, never her words."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class Feedback(Base):
    """One answer per side of a conversation; the optional words go to a coordinator, not here."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("match_id", "side"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="SET NULL"))
    side: Mapped[str] = mapped_column(String(16))  # "seeker" (score) or "supporter" (check-in)
    score: Mapped[int | None]  # 1-5, from the seeker
    checkin: Mapped[str | None] = mapped_column(String(16))  # ok / heavy / talk, from the supporter
    gave_words: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
