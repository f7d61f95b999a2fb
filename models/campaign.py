"""An information campaign coordinators send to everyone who agreed to receive them.

Only the campaign's own words and counts are kept here; who received it lives in the outbox,
one row per person under the key `campaign:<id>:<participant id>`.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SENDING = "sending"  # being queued; a crash leaves it here and `send` simply resumes
    SENT = "sent"  # every consenting person has her outbox row
    PAUSED = "paused"  # nothing more goes out until it is resumed
    CANCELLED = "cancelled"  # what had not gone out is dropped; never sent again


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    texts: Mapped[dict[str, Any]]  # {"en": "...", "pl": "..."}; English is required
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime | None]  # when the last `send` finished queuing
    queued: Mapped[int] = mapped_column(default=0)  # outbox rows it has, all runs together
    # Who it is for: {"roles": [...], "languages": [...], "channels": [...], "active_days": n};
    # always only women who agreed to news and are not stopped, banned or erased.
    segment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    send_at: Mapped[datetime | None]  # not before this; then within each woman's own hours
    paused_at: Mapped[datetime | None]  # while paused: rows resume shifted by the pause
    # How its rows stood when the retention purge deleted them (bucket -> count), so the
    # funders' report still counts a campaign's delivery after its outbox rows are gone.
    purged_counts: Mapped[dict[str, Any] | None]


# Where a campaign's message stands: queued → sent → delivered / failed / blocked / opted out.
DELIVERY = ("queued", "paused", "sent", "delivered", "failed", "blocked", "opted_out", "dropped")


def campaign_of(dedupe_key: str | None) -> int | None:
    """The campaign an outbox row belongs to, from its key `campaign:<id>:<participant id>`."""
    kind, _, rest = (dedupe_key or "").partition(":")
    number = rest.partition(":")[0]
    return int(number) if kind == "campaign" and number.isdigit() else None


def delivery_bucket(status: str, error: str | None) -> str:
    """One row's place in DELIVERY, from its outbox status and the error it ended with."""
    error = error or ""
    if status in ("pending", "sending", "held"):
        return "queued"
    if status in ("paused", "sent"):
        return status
    if status in ("delivered", "read"):
        return "delivered"
    if error == "news off":
        return "opted_out"
    if error.startswith(("unreachable", "recipient stopped")):
        return "blocked"
    return "failed" if status == "failed" else "dropped"
