"""Every inbound delivery, written before the webhook answers, so nothing acknowledged is lost.

A row's sealed payload is kept only until the update is processed; the row itself stays (for
48 hours) so a delivery retried by the platform is recognised and acts once.
"""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow

# Updates are processed in lanes (a hash of the chat), one owner per lane, in arrival order.
INBOUND_LANES = 64
PENDING = text("payload IS NOT NULL")


class ProcessedInbound(Base):
    __tablename__ = "processed_inbound"
    __table_args__ = (
        Index(
            "ix_processed_inbound_pending",
            "lane",
            "seq",
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        ),
    )

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(96), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Kept so "quick exit" can delete her recent messages; purged with the row after 48 hours.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    chat_message_id: Mapped[str | None] = mapped_column(String(32))
    lane: Mapped[int | None] = mapped_column(SmallInteger)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    # The update as received, encrypted; NULL once processed (or for events handled at once).
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)


class Lease(Base):
    """A named piece of work one process holds for a while: an inbound lane, a channel's sender."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(48), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    until: Mapped[datetime | None]
