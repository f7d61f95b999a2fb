"""One-time invites: the only way in for a supporter or coordinator, stored as a hash of the code.

A coordinator makes one (`peerline invite create`, or `/invite` in the chat). On Telegram it is a
deep link `https://t.me/<bot>?start=<code>`, which arrives as `/start <code>`; on WhatsApp and the
console she types `join <code>`. Only a hash of the code is stored; it expires and works once.

```mermaid
stateDiagram-v2
    [*] --> open: created (code shown once, its hash stored)
    open --> used: the first person who sends it (of two at once, exactly one)
    open --> expired: its hours are over
    used --> [*]
    expired --> [*]
```
"""

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from flows.audit import audit
from models import Role
from models.invite import Invite

# No 0/O, 1/I/L: codes are read aloud and typed on small phones.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


def new_invite_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """Typed codes forgive case, spaces and dashes."""
    return re.sub(r"[\s_-]+", "", code).upper()


def hash_code(code: str) -> str:
    # The code is random and long enough that a plain hash cannot be guessed back.
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def invite_link(settings: Any, code: str) -> str | None:
    username = getattr(settings, "telegram_bot_username", None)
    return f"https://t.me/{username.lstrip('@')}?start={code}" if username else None


async def create_invite(
    session: AsyncSession, *, role: str, hours: float, actor: str, now: datetime
) -> tuple[str, Invite]:
    """A new one-time code (returned once, never stored) and its row."""
    if role not in (Role.SUPPORTER, Role.COORDINATOR):
        raise ValueError("an invite is for a supporter or a coordinator")
    code = new_invite_code()
    invite = Invite(code_hash=hash_code(code), role=role, created_by=actor, created_at=now,
                    expires_at=now + timedelta(hours=hours))  # fmt: skip
    session.add(invite)
    await session.flush()
    audit(session, now, actor, "invite.create", f"invite:{invite.id}", role=role, hours=hours)
    return code, invite


async def redeem_invite(
    session: AsyncSession, code: str, participant_id: int, now: datetime
) -> Invite | None:
    """Use the code once: a conditional update, so of two people at once exactly one wins."""
    result = await session.execute(
        update(Invite)
        .where(
            Invite.code_hash == hash_code(code), Invite.used_at.is_(None), Invite.expires_at > now
        )  # fmt: skip
        .values(used_at=now, used_by_id=participant_id)
        .returning(Invite.id, Invite.role)
    )
    row = result.first()
    if row is None:
        return None
    audit(session, now, f"participant:{participant_id}", "invite.use", f"invite:{row.id}",
          role=row.role)  # fmt: skip
    return await session.get(Invite, row.id)
