"""A person who talks to the bot, known to others only by an alias."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow


class Role(StrEnum):
    SEEKER = "seeker"
    SUPPORTER = "supporter"
    COORDINATOR = "coordinator"


class ParticipantStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"  # she blocked the bot or opted out; nothing is sent to her
    BLOCKED = "blocked"  # banned by a coordinator; nothing from her reaches anyone
    ERASED = "erased"


class Participant(Base):
    """The channel address is stored only encrypted, next to a keyed hash used for look-ups."""

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("channel", "address_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default=Role.SEEKER)
    status: Mapped[str] = mapped_column(String(16), default=ParticipantStatus.ACTIVE, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    address_hash: Mapped[str] = mapped_column(String(64))
    address_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    alias: Mapped[str] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(8))
    consent_terms: Mapped[bool] = mapped_column(default=False)
    consent_campaigns: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_inbound_at: Mapped[datetime | None]
    # Her time: an IANA zone (None: the deployment's), and the hours in which the bot may write
    # first, "HH:MM-HH:MM" her time, "never", or None for the deployment's; check-ins on or off.
    timezone: Mapped[str | None] = mapped_column(String(64))
    reach_hours: Mapped[str | None] = mapped_column(String(16))
    checkins_wanted: Mapped[bool] = mapped_column(default=True)
    # Set by a quick exit: nothing new reaches her chat (it is held) until she writes again.
    held_since: Mapped[datetime | None]

    profile: Mapped["SupporterProfile | None"] = relationship(
        back_populates="participant", cascade="all, delete-orphan", uselist=False
    )


class SupporterProfile(Base):
    """What a peer supporter takes on, and what she protects herself from."""

    __tablename__ = "supporter_profiles"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    approved: Mapped[bool] = mapped_column(default=False)
    approved_at: Mapped[datetime | None]
    suspended: Mapped[bool] = mapped_column(default=False)
    on_duty: Mapped[bool] = mapped_column(default=False)
    capacity: Mapped[int] = mapped_column(default=2)
    languages: Mapped[list[str]] = mapped_column(default=list)
    topics: Mapped[list[str]] = mapped_column(default=list)
    excluded_topics: Mapped[list[str]] = mapped_column(default=list)
    weekly_hours: Mapped[list[str]] = mapped_column(default=list)  # e.g. ["mon 18:00-22:00"]
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Warsaw")
    last_matched_at: Mapped[datetime | None]
    paused_until: Mapped[datetime | None]  # "pause me": no new requests before this moment
    # Changes she made after approval that wait for a coordinator's OK, by field:
    # {"languages": {"value": [...], "at": "<ISO time>"}}; matching reads only the fields above.
    pending_change: Mapped[dict[str, Any] | None]

    participant: Mapped[Participant] = relationship(back_populates="profile")
