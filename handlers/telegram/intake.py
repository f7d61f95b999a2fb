"""Telegram updates into the inbound journal, from the webhook or the poller alike.

An update is keyed by the bot's id and its update_id, so one Telegram delivers twice acts once;
its lane comes from the chat, so one chat's updates are processed in order.
"""

import json
from typing import Any

from handlers.journal import Delivery
from handlers.telegram.parse import NAME


def chat_key(update: dict[str, Any]) -> int:
    """Any stable number for the chat (or user) an update belongs to; 0 when there is none."""
    for kind in ("message", "edited_message", "callback_query", "my_chat_member"):
        body = update.get(kind)
        if isinstance(body, dict):
            for holder in (body.get("chat"), body.get("message"), body.get("from")):
                if isinstance(holder, dict):
                    chat = holder.get("chat") if "chat" in holder else holder
                    if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                        return chat["id"]
    return 0


def delivery_of(
    update: dict[str, Any], body: bytes | None = None, bot_id: str | None = None
) -> Delivery | None:
    """The journal entry for one update; None for one without an update_id (nothing to do).

    Update numbers are counted per bot and start again for a new bot, so the key names the bot:
    with a new token on the same database her /start is not taken for an old update.
    """
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    payload = body if body is not None else json.dumps(update, separators=(",", ":")).encode()
    key = f"u{bot_id}:{update_id}" if bot_id else f"u{update_id}"
    return Delivery(NAME, key, str(chat_key(update)), payload)


def bot_id_of(token: str) -> str | None:
    """The bot's own id, the number before the colon of its token (not a secret)."""
    head = token.split(":", 1)[0]
    return head if head.isdigit() else None
