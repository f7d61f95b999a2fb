"""Help requests, the offers made to supporters, and the matches that follow."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow
from models.sealed import SealedText


class RequestStatus(StrEnum):
    WAITING = "waiting"
    MATCHED = "matched"
    ENDED = "ended"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class OfferStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class MatchStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class HelpRequest(Base):
    __tablename__ = "help_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    seeker_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.WAITING, index=True)
    topic: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    urgent: Mapped[bool] = mapped_column(default=False)
    # Her own words, masked and sealed; deleted when the request ends.
    note: Mapped[str | None] = mapped_column(SealedText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    matched_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    coordinator_alerted: Mapped[bool] = mapped_column(default=False)
    danger_signal_at: Mapped[datetime | None]  # help paths were shown once for this request
    # The highest danger score (0-1) her messages reached: the queue offers higher risk first.
    danger_score: Mapped[float] = mapped_column(default=0.0, server_default="0")


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (UniqueConstraint("request_id", "supporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("help_requests.id", ondelete="CASCADE"))
    supporter_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=OfferStatus.PENDING, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class Match(Base):
    """One seeker and one supporter talking through the bot; at most one match per request."""

    __tablename__ = "matches"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("help_requests.id", ondelete="CASCADE"), unique=True
    )
    seeker_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    supporter_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=MatchStatus.ACTIVE, index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(16))
    # Both said yes at the end: a later request of hers goes to this supporter first.
    seeker_again: Mapped[bool] = mapped_column(default=False)
    supporter_again: Mapped[bool] = mapped_column(default=False)
    # A coordinator who joined as a third, named participant (a conversation flagged for danger).
    joined_by: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
