"""Every outbound message is a row first, so a crash neither loses nor doubles it."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow
from models.sealed import SealedJSON


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed under a lease; re-claimable once the lease runs out
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    DROPPED = "dropped"  # the recipient is stopped, blocked or erased
    PAUSED = "paused"  # a campaign's row while the campaign is paused
    HELD = "held"  # kept back after her quick exit, until she asks to see it


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_claimable", "status", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="reply")
    text_id: Mapped[str] = mapped_column(String(64))
    # Parameters may hold relayed words: sealed at rest, and wiped once the message is delivered.
    params: Mapped[dict[str, Any] | None] = mapped_column(SealedJSON)
    buttons: Mapped[list[Any] | None] = mapped_column(JSON)
    media: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    dedupe_key: Mapped[str | None] = mapped_column(String(96), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    channel_message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # A relayed copy: which conversation it belongs to and the sender's own chat message id,
    # so a reply to the copy finds its conversation and an edit finds the copy to edit.
    match_id: Mapped[int | None] = mapped_column(
        ForeignKey("matches.id", ondelete="SET NULL"), index=True
    )
    source_message_id: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # Set (committed) just before a send starts and left as it was once its answer is recorded:
    # a row still "sending" with this set after a crash may or may not have reached the API.
    attempted_at: Mapped[datetime | None]
