"""Channel message ids already handled, so a webhook retried by the platform acts once."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class ProcessedInbound(Base):
    __tablename__ = "processed_inbound"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(96), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Kept so "quick exit" can delete her recent messages; purged with the row after 48 hours.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    chat_message_id: Mapped[str | None] = mapped_column(String(32))
