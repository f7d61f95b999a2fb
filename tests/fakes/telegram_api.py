"""A fake Telegram Bot API server for end-to-end tests with the real python-telegram-bot.

PTB is pointed at it with ``base_url``/``base_file_url``; every request goes over real HTTP, so
PTB's own encoding, error mapping (``RetryAfter``, ``Forbidden``, ``BadRequest`` ...) and polling
loop are exercised exactly as in production. Answers use the real Bot API shapes; failures can be
scripted per method (and per chat) in one line, like aiogram's test bot.

Usage::

    async with FakeBotAPI(token="123:ABC") as api:
        app = (ApplicationBuilder().token(api.token)
               .base_url(api.base_url).base_file_url(api.base_file_url).build())
        api.push_update(make_message_update(42, "/start"))
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import mimetypes
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes import LocalServer

__all__ = [
    "Call",
    "FakeBotAPI",
    "UploadedFile",
    "make_callback_update",
    "make_message_update",
    "make_my_chat_member_update",
]

JSONDict = dict[str, Any]

# PTB sends ``str`` parameters verbatim and JSON-encodes everything else (ints, bools, dicts),
# all as form fields. So a field is JSON-decoded unless it is one of these string-typed fields,
# where decoding would turn a text of "123" or "true" into a number or a bool.
_STRING_FIELDS = frozenset(
    {
        "action", "audio", "animation", "business_connection_id", "callback_query_id",
        "caption", "description", "document", "emoji", "file_id", "inline_message_id",
        "ip_address", "language_code", "message_effect_id", "name", "parse_mode", "performer",
        "photo", "secret_token", "short_description", "sticker", "text", "thumbnail", "title",
        "url", "video", "video_note", "voice",
    }
)  # fmt: skip

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# Media send methods: the parameter holding the file, and default attributes of the echoed object.
_MEDIA_METHODS: dict[str, tuple[str, str, JSONDict]] = {
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


@dataclass(frozen=True)
class UploadedFile:
    """A file PTB uploaded as a multipart part (e.g. ``send_voice(chat, voice=b"...")``)."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class Call:
    """One Bot API request as the bot made it, with parameters decoded back to Python objects.

    ``ok`` is False when the fake answered with an error (scripted or not), so tests can tell
    attempts from deliveries.
    """

    method: str
    params: JSONDict
    ok: bool = True


@dataclass
class _Scripted:
    ok: bool
    result: Any
    error_code: int
    description: str
    parameters: JSONDict | None
    chat_id: int | str | None


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    mime: str
    file_path: str


class _ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


@dataclass
class _Webhook:
    url: str = ""
    secret: str | None = None
    allowed_updates: list[str] | None = None


class FakeBotAPI:
    """The Bot API on 127.0.0.1, as an async context manager.

    ``long_poll_cap`` bounds how long ``getUpdates`` holds a request open whatever ``timeout``
    PTB asks for, so stopping the updater and the server never waits on a 10 s long poll.
    """

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        bot_username: str = "peerline_test_bot",
        bot_name: str = "Peerline",
        long_poll_cap: float = 1.0,
    ) -> None:
        self.token = token
        self.bot_user: JSONDict = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self.long_poll_cap = long_poll_cap
        self.calls: list[Call] = []
        self._scripted: list[tuple[str, _Scripted]] = []
        self._updates: deque[JSONDict] = deque()
        self._files: dict[str, _StoredFile] = {}
        self._webhook = _Webhook()
        self._allowed_updates: list[str] = []
        self._commands: list[JSONDict] = []
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._next_update_id = 1
        self._changed = asyncio.Event()  # set whenever an update is queued or a call recorded
        self._closing = False
        self._server = LocalServer(
            Starlette(
                routes=[
                    Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                    Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
                ]
            )
        )
        self._handlers: dict[str, Callable[[JSONDict], Any]] = {
            "getme": lambda p: self._get_me(),
            "sendmessage": self._send_message,
            "copymessage": lambda p: {"message_id": next(self._message_ids)},
            "forwardmessage": self._forward_message,
            "editmessagetext": self._edit_message,
            "editmessagereplymarkup": self._edit_message,
            "deletemessage": lambda p: True,
            "deletemessages": lambda p: True,
            "answercallbackquery": lambda p: True,
            "setmycommands": self._set_my_commands,
            "getmycommands": lambda p: self._commands,
            "setmydescription": lambda p: True,
            "setmyshortdescription": lambda p: True,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": lambda p: self._webhook_info(),
            "sendchataction": lambda p: True,
            "getfile": self._get_file,
            "close": lambda p: True,
            "logout": lambda p: True,
            **{name: functools.partial(self._send_media, name) for name in _MEDIA_METHODS},
        }

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> FakeBotAPI:
        await self._server.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing = True
        self._changed.set()  # release pending long polls at once
        await self._server.stop()

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder().base_url(...)``; PTB appends the token."""
        return f"{self._server.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder().base_file_url(...)``; PTB appends the token."""
        return f"{self._server.url}/file/bot"

    # -- inspection ------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """Every call to ``method`` (case-insensitive, as Telegram is), failed ones included."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def sent_texts(self, chat_id: int | str | None = None) -> list[str]:
        """Texts of successful ``sendMessage`` calls, optionally only those to ``chat_id``."""
        return [
            c.params.get("text", "")
            for c in self.calls_to("sendMessage")
            if c.ok and (chat_id is None or _same_chat(c.params.get("chat_id"), chat_id))
        ]

    def clear(self) -> None:
        """Forget recorded calls and scripted results (files and queued updates stay)."""
        self.calls.clear()
        self._scripted.clear()

    async def wait_for_calls(self, method: str, count: int = 1, within: float = 5.0) -> list[Call]:
        """Wait until ``method`` was called ``count`` times; for asserting on background work.

        Raises ``TimeoutError`` after ``within`` seconds so a missing call fails, not hangs.
        """
        async with asyncio.timeout(within):
            while len(self.calls_to(method)) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.calls_to(method)

    @property
    def webhook_url(self) -> str | None:
        return self._webhook.url or None

    @property
    def webhook_secret(self) -> str | None:
        return self._webhook.secret

    # -- scripting -------------------------------------------------------------------------

    def add_result_for(
        self,
        method: str,
        *,
        ok: bool = True,
        result: Any = None,
        error_code: int | None = None,
        description: str | None = None,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        chat_id: int | str | None = None,
    ) -> None:
        """Queue the answer for the next ``method`` call (to ``chat_id`` only, if given).

        ``ok=False`` answers with HTTP status ``error_code`` and Telegram's error body; PTB maps
        the *status* to its exception class; ``error_code`` defaults to 429 when ``retry_after``
        is given, else 400. ``ok=True`` with ``result`` overrides the default result; with
        ``result=None`` the default answer is used. Entries are consumed in order.
        """
        if error_code is None:
            error_code = 429 if retry_after is not None else 400
        parameters: JSONDict = {}
        if retry_after is not None:
            parameters["retry_after"] = retry_after
        if migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = migrate_to_chat_id
        if description is None:
            template = _DEFAULT_DESCRIPTIONS.get(error_code, "Error")
            description = template.format(retry_after=retry_after)
        entry = _Scripted(ok, result, error_code, description, parameters or None, chat_id)
        self._scripted.append((method.lower(), entry))

    def add_file(
        self,
        file_id: str,
        data: bytes,
        mime: str = "application/octet-stream",
        *,
        file_path: str | None = None,
    ) -> str:
        """Make ``file_id`` resolvable by ``getFile`` and downloadable; returns its file_path."""
        if file_path is None:
            file_path = f"files/{file_id}{mimetypes.guess_extension(mime) or ''}"
        self._files[file_id] = _StoredFile(file_id, f"u{file_id}"[:32], data, mime, file_path)
        return file_path

    # -- updates ---------------------------------------------------------------------------

    def push_update(self, update: JSONDict) -> JSONDict:
        """Queue an update for ``getUpdates``; assigns ``update_id`` when missing."""
        update = self._with_update_id(update)
        self._updates.append(update)
        self._changed.set()
        return update

    async def deliver_webhook(self, update: JSONDict) -> int:
        """POST ``update`` to the URL from the last ``setWebhook``, as Telegram does.

        Sends the ``X-Telegram-Bot-Api-Secret-Token`` header when a secret was set and returns
        the receiver's HTTP status.
        """
        if not self._webhook.url:
            raise RuntimeError("no webhook set: the bot has not called setWebhook")
        headers = {}
        if self._webhook.secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self._webhook.secret
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(
                self._webhook.url, json=self._with_update_id(update), headers=headers
            )
        return response.status_code

    def _with_update_id(self, update: JSONDict) -> JSONDict:
        """Give ``update`` the next id; ids chosen by a test push the counter past them."""
        if "update_id" not in update:
            update = {"update_id": self._next_update_id, **update}
        self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        return update

    # -- HTTP ------------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        method = request.path_params["method"]
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        params = await _read_params(request)
        try:
            result = await self._answer(method, params)
        except _ApiError as err:
            self._record(Call(method, params, ok=False))
            return _error(err.code, err.description, err.parameters)
        self._record(Call(method, params))
        return JSONResponse({"ok": True, "result": result})

    async def _download(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        path = request.path_params["path"]
        for stored in self._files.values():
            if stored.file_path == path:
                return Response(stored.data, media_type=stored.mime)
        return _error(404, "Not Found")

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._changed.set()

    async def _answer(self, method: str, params: JSONDict) -> Any:
        name = method.lower()
        scripted = self._take_scripted(name, params)
        if scripted is not None:
            if not scripted.ok:
                raise _ApiError(scripted.error_code, scripted.description, scripted.parameters)
            if scripted.result is not None:
                return scripted.result
        if name == "getupdates":
            return await self._get_updates(params)
        handler = self._handlers.get(name)
        if handler is None:
            raise _ApiError(404, "Not Found: method not found")
        return handler(params)

    def _take_scripted(self, name: str, params: JSONDict) -> _Scripted | None:
        for index, (method, entry) in enumerate(self._scripted):
            if method == name and (
                entry.chat_id is None or _same_chat(params.get("chat_id"), entry.chat_id)
            ):
                del self._scripted[index]
                return entry
        return None

    # -- method implementations -------------------------------------------------------------

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
            raise _ApiError(400, "Bad Request: chat_id is empty")
        message: JSONDict = {
            "message_id": next(self._message_ids),
            "from": self.bot_user,
            "chat": _chat(chat_id),
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
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
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
        field_name, default_mime, extra = _MEDIA_METHODS[method]
        value = params.get(field_name)
        if not value:
            raise _ApiError(400, f"Bad Request: there is no {field_name} in the request")
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

    def _stored(self, file_id: str, data: bytes, mime: str) -> _StoredFile:
        self.add_file(file_id, data, mime)
        return self._files[file_id]

    def _get_file(self, params: JSONDict) -> JSONDict:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
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
        self._webhook = _Webhook(url, params.get("secret_token"), params.get("allowed_updates"))
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _delete_webhook(self, params: JSONDict) -> bool:
        self._webhook = _Webhook()
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
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if params.get("allowed_updates") is not None:  # Telegram remembers the last list
            self._allowed_updates = list(params["allowed_updates"])
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
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


# -- request decoding ---------------------------------------------------------------------------


async def _read_params(request: Request) -> JSONDict:
    """Decode a Bot API request whatever its encoding: query, JSON, urlencoded or multipart."""
    params: JSONDict = {k: _decode(k, v) for k, v in request.query_params.items()}
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = await request.body()
        if body:
            params.update(json.loads(body))
    elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                params[key] = UploadedFile(value.filename, value.content_type, await value.read())
            else:
                params[key] = _decode(key, value)
        await form.close()
    return params


def _decode(name: str, raw: str) -> Any:
    if name in _STRING_FIELDS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # e.g. chat_id="@channel"


def _error(code: int, description: str, parameters: JSONDict | None = None) -> JSONResponse:
    body: JSONDict = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=code)


def _same_chat(a: object, b: object) -> bool:
    return a is not None and str(a) == str(b)


def _chat(chat_id: int | str, first_name: str = "Test") -> JSONDict:
    if isinstance(chat_id, str) and not chat_id.lstrip("-").isdigit():
        return {"id": -1001, "type": "channel", "title": "Channel", "username": chat_id.lstrip("@")}
    chat_id = int(chat_id)
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": first_name}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": "Test group"}


# -- update builders ----------------------------------------------------------------------------

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
        "chat": _chat(chat_id, sender["first_name"]),
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
                "chat": _chat(chat_id, sender["first_name"]),
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
            "chat": _chat(chat_id, sender["first_name"]),
            "from": sender,
            "date": int(time.time()),
            "old_chat_member": member(old_status),
            "new_chat_member": member(new_status),
        }
    }
