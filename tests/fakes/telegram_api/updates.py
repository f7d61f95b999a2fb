"""Updates as Telegram sends them: a message, a button press, the bot blocked or unblocked.

Builders for tests to push with `FakeBotAPI.push_update` or `deliver_webhook`.
"""

from __future__ import annotations

import itertools
import time

from tests.fakes.telegram_api.wire import JSONDict, chat_json

_builder_ids = itertools.count(1000)


def _user(chat_id: int, user: JSONDict | None, language_code: str) -> JSONDict:
    base: JSONDict = {
        "id": chat_id if chat_id > 0 else 777_000_001,
        "is_bot": False,
        "first_name": "Test",
        "language_code": language_code,
    }
    return {**base, **(user or {})}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def make_message_update(
    chat_id: int,
    text: str | None = None,
    *,
    user: JSONDict | None = None,
    update_id: int | None = None,
    message_id: int | None = None,
    voice: str | JSONDict | None = None,
    reply_to_message_id: int | None = None,
    language_code: str = "en",
    entities: list[JSONDict] | None = None,
) -> JSONDict:
    """A ``message`` update as Telegram sends it when someone writes to the bot.

    A text starting with ``/`` gets its ``bot_command`` entity (PTB's ``CommandHandler`` needs
    it) unless ``entities`` is given. ``voice`` is a file_id (pair it with ``api.add_file``) or
    a full Voice dict. ``update_id`` is left for ``push_update``/``deliver_webhook`` to assign.
    """
    sender = _user(chat_id, user, language_code)
    message: JSONDict = {
        "message_id": message_id if message_id is not None else next(_builder_ids),
        "from": sender,
        "chat": chat_json(chat_id, sender["first_name"]),
        "date": int(time.time()),
    }
    if text is not None:
        message["text"] = text
        if entities is None and text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        if entities:
            message["entities"] = entities
    if voice is not None:
        if isinstance(voice, str):
            voice = {
                "file_id": voice,
                "file_unique_id": f"u{voice}"[:32],
                "duration": 3,
                "mime_type": "audio/ogg",
            }
        message["voice"] = voice
    if reply_to_message_id is not None:
        message["reply_to_message"] = {
            "message_id": reply_to_message_id,
            "chat": message["chat"],
            "date": message["date"],
        }
    update: JSONDict = {"message": message}
    if update_id is not None:
        update = {"update_id": update_id, **update}
    return update


def make_callback_update(
    chat_id: int,
    data: str,
    message_id: int,
    *,
    user: JSONDict | None = None,
    message_text: str = "",
    language_code: str = "en",
    bot_id: int = 123,
) -> JSONDict:
    """A ``callback_query`` update: someone pressed an inline button on message ``message_id``."""
    sender = _user(chat_id, user, language_code)
    return {
        "callback_query": {
            "id": str(next(_builder_ids)),
            "from": sender,
            "chat_instance": f"ci{chat_id}",
            "data": data,
            "message": {
                "message_id": message_id,
                "from": {"id": bot_id, "is_bot": True, "first_name": "Peerline"},
                "chat": chat_json(chat_id, sender["first_name"]),
                "date": int(time.time()),  # non-zero: an accessible message
                "text": message_text,
            },
        }
    }


def make_my_chat_member_update(
    chat_id: int,
    new_status: str = "kicked",
    *,
    old_status: str = "member",
    user: JSONDict | None = None,
    bot_id: int = 123,
) -> JSONDict:
    """A ``my_chat_member`` update; ``kicked`` in a private chat means she blocked the bot."""
    bot = {"id": bot_id, "is_bot": True, "first_name": "Peerline"}

    def member(status: str) -> JSONDict:
        if status not in {"member", "kicked", "left"}:
            raise ValueError(f"unsupported chat member status: {status}")
        return {"status": status, "user": bot, **({"until_date": 0} if status == "kicked" else {})}

    sender = _user(chat_id, user, "en")
    return {
        "my_chat_member": {
            "chat": chat_json(chat_id, sender["first_name"]),
            "from": sender,
            "date": int(time.time()),
            "old_chat_member": member(old_status),
            "new_chat_member": member(new_status),
        }
    }
