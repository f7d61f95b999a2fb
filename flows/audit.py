"""The audit trail: who did what to which row, so coordinators can answer for every action."""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditEntry


def audit(
    session: AsyncSession, now: datetime, actor: str, action: str, target: str, **details: Any
) -> None:
    """One audit line; it names rows (``participant:7``), never a name, number or message."""
    session.add(AuditEntry(at=now, actor=actor, action=action, target=target, details=details))
