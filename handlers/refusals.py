"""What the web edge refuses before any transaction: shapes a column or a flow cannot hold.

A value that would fail inside the database (a NUL, a lone surrogate, an id longer than its
column) is answered with a 4xx at the door, so nothing is half-written and she gets no apology.
"""

from dataclasses import fields
from typing import Any

from flows.events import InboundEvent, MediaRef

MAX_JSON_DEPTH = 32
MAX_INT = 2**63  # every Telegram id fits in a signed 64-bit integer
# Column widths of what an event writes (models: processed_inbound, outbox).
LIMITS = {
    "message_id": 96,
    "chat_message_id": 32,
    "reply_to": 32,
    "edited_message_id": 32,
    "command": 32,
    "choice": 64,
    "language_hint": 35,
}
MAX_TEXT = 10_000  # far above any channel's own limit (Telegram 4,096; WhatsApp 1,600)


def unusable_text(value: str) -> str | None:
    """Why a string cannot be stored as it is: a NUL byte or a lone surrogate."""
    if "\x00" in value:
        return "NUL in a field"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate in a field"
    return None


def unusable_json(data: Any) -> str | None:
    """Why a decoded JSON body is refused: too deep, a number too big, or an unusable string."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return "JSON nested too deep"
        if isinstance(value, dict):
            for key, item in value.items():
                stack.append((key, depth))
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            reason = unusable_text(value)
            if reason:
                return reason
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= MAX_INT:
            return "a number out of range"
    return None


def unusable_event(event: InboundEvent) -> str | None:
    """Why an event cannot be handled as it is; None when every field fits where it goes."""
    for item in fields(event):
        value = getattr(event, item.name)
        if isinstance(value, MediaRef):
            value = value.ref + (value.mime_type or "")
        if not isinstance(value, str):
            continue
        reason = unusable_text(value)
        if reason:
            return reason
        if len(value) > LIMITS.get(item.name, MAX_TEXT):
            return f"{item.name} too long"
    return None
