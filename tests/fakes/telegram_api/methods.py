"""The Bot API methods the fake answers, with Telegram's real result shapes and error texts.

A mixin of `FakeBotAPI`: it reads and writes the server's state (messages, files, webhook,
queued updates), so every method stays a few lines next to its siblings.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from tests.fakes.telegram_api.wire import (
    ApiError,
    JSONDict,
    StoredFile,
    UploadedFile,
    Webhook,
    chat_json,
)

# Media send methods: the parameter holding the file, and default attributes of the echoed object.
MEDIA_METHODS: dict[str, tuple[str, str, JSONDict]] = {
    "sendvoice": ("voice", "audio/ogg", {"duration": 3}),
    "sendaudio": ("audio", "audio/mpeg", {"duration": 3}),
    "sendphoto": ("photo", "image/jpeg", {"width": 800, "height": 600}),
    "senddocument": ("document", "application/octet-stream", {"file_name": "document"}),
    "sendvideo": ("video", "video/mp4", {"width": 640, "height": 480, "duration": 3}),
    "sendsticker": (
        "sticker",
        "image/webp",
        {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False},
    ),
}

_UPDATE_TYPES_DEFAULT_EXCLUDED = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)


class BotMethods:
    """Method implementations; `FakeBotAPI` sets up the state they use."""

    bot_user: JSONDict
    long_poll_cap: float
    _updates: deque[JSONDict]
    _files: dict[str, StoredFile]
    _webhook: Webhook
    _allowed_updates: list[str]
    _commands: list[JSONDict]
    _message_ids: Iterator[int]
    _file_ids: Iterator[int]
    _changed: asyncio.Event
    _closing: bool
    add_file: Callable[..., str]

    def _get_me(self) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _message(self, params: JSONDict, **content: Any) -> JSONDict:
        chat_id = params.get("chat_id")
        if chat_id is None:
            raise ApiError(400, "Bad Request: chat_id is empty")
        message: JSONDict = {
            "message_id": next(self._message_ids),
            "from": self.bot_user,
            "chat": chat_json(chat_id),
            "date": int(time.time()),
            **content,
        }
        # Telegram echoes only inline keyboards; reply keyboards never appear on a Message.
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message

    def _send_message(self, params: JSONDict) -> JSONDict:
        text = params.get("text")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        content: JSONDict = {"text": text}
        if params.get("entities"):
            content["entities"] = params["entities"]
        return self._message(params, **content)

    def _forward_message(self, params: JSONDict) -> JSONDict:
        origin = {"type": "hidden_user", "sender_user_name": "Hidden", "date": int(time.time())}
        return self._message(params, forward_origin=origin)

    def _edit_message(self, params: JSONDict) -> JSONDict | bool:
        if "inline_message_id" in params:
            return True
        content: JSONDict = {"edit_date": int(time.time())}
        if "text" in params:
            content["text"] = params["text"]
        message = self._message(params, **content)
        message["message_id"] = params.get("message_id", message["message_id"])
        return message

    def _send_media(self, method: str, params: JSONDict) -> JSONDict:
        field_name, default_mime, extra = MEDIA_METHODS[method]
        value = params.get(field_name)
        if not value:
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        if isinstance(value, UploadedFile):
            stored = self._stored(
                f"fake-{field_name}-{next(self._file_ids)}",
                value.data,
                value.content_type or default_mime,
            )
        elif isinstance(value, str) and value in self._files:
            stored = self._files[value]
        else:  # a file_id or URL we were not told about: still echo something plausible
            stored = self._stored(str(value), b"", default_mime)
        media: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            **extra,
        }
        if field_name not in {"photo", "sticker"}:
            media["mime_type"] = stored.mime
        if field_name == "document" and isinstance(value, UploadedFile) and value.filename:
            media["file_name"] = value.filename
        content: JSONDict = {field_name: [media] if field_name == "photo" else media}
        if params.get("caption"):
            content["caption"] = params["caption"]
        return self._message(params, **content)

    def _stored(self, file_id: str, data: bytes, mime: str) -> StoredFile:
        self.add_file(file_id, data, mime)
        return self._files[file_id]

    def _get_file(self, params: JSONDict) -> JSONDict:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    def _set_my_commands(self, params: JSONDict) -> bool:
        self._commands = list(params.get("commands") or [])
        return True

    def _set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url") or ""
        if not url:  # Telegram treats an empty url as removing the webhook
            return self._delete_webhook(params)
        self._webhook = Webhook(url, params.get("secret_token"), params.get("allowed_updates"))
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _delete_webhook(self, params: JSONDict) -> bool:
        self._webhook = Webhook()
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _webhook_info(self) -> JSONDict:
        info: JSONDict = {
            "url": self._webhook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook.allowed_updates:
            info["allowed_updates"] = self._webhook.allowed_updates
        return info

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self._webhook.url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if params.get("allowed_updates") is not None:  # Telegram remembers the last list
            self._allowed_updates = list(params["allowed_updates"])
        offset = int(params.get("offset") or 0)
        limit = min(int(params.get("limit") or 100), getattr(self, "fetch_limit", 100))
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), self.long_poll_cap)
        while True:
            self._changed.clear()
            ready = self._pending(offset)[:limit]
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0 or self._closing:
                return ready
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    def _pending(self, offset: int) -> list[JSONDict]:
        """Confirm updates below ``offset`` (drop them) and return the deliverable rest."""
        queue = self._updates
        while queue and offset and queue[0]["update_id"] < offset:
            queue.popleft()
        wanted = set(self._allowed_updates)
        deliverable = []
        for update in queue:
            kind = next((k for k in update if k != "update_id"), "")
            if (kind in wanted) if wanted else (kind not in _UPDATE_TYPES_DEFAULT_EXCLUDED):
                deliverable.append(update)
        return deliverable
