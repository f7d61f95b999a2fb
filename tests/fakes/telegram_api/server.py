"""The fake Bot API server: lifecycle, inspection of calls, scripted failures, updates, routing.

See the package docstring for how tests use it; the methods themselves live in `methods`.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import mimetypes
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes import LocalServer
from tests.fakes.telegram_api.methods import MEDIA_METHODS, BotMethods
from tests.fakes.telegram_api.wire import (
    ApiError,
    Call,
    JSONDict,
    Scripted,
    StoredFile,
    Webhook,
    error_response,
    read_params,
    same_chat,
)

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


class FakeBotAPI(BotMethods):
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
        self._scripted: list[tuple[str, Scripted]] = []
        self._updates: deque[JSONDict] = deque()
        self._files: dict[str, StoredFile] = {}
        self._webhook = Webhook()
        self._allowed_updates: list[str] = []
        self._commands: list[JSONDict] = []
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._next_update_id = 1
        self._changed = asyncio.Event()  # set whenever an update is queued or a call recorded
        self._closing = False
        self.latency = 0.0  # seconds each call takes to answer
        self.fetch_limit = 100  # at most this many updates for one getUpdates
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
            "editmessagecaption": self._edit_message,
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
            **{name: functools.partial(self._send_media, name) for name in MEDIA_METHODS},
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
            if c.ok and (chat_id is None or same_chat(c.params.get("chat_id"), chat_id))
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
        entry = Scripted(ok, result, error_code, description, parameters or None, chat_id)
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
        self._files[file_id] = StoredFile(file_id, f"u{file_id}"[:32], data, mime, file_path)
        return file_path

    # -- updates ---------------------------------------------------------------------------

    @property
    def unconfirmed(self) -> int:
        """Updates no getUpdates offset has confirmed yet: those Telegram would send again."""
        return len(self._updates)

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
            return error_response(401, "Unauthorized")
        params = await read_params(request)
        arrived = time.monotonic()
        if self.latency:
            await asyncio.sleep(self.latency)  # the real API's round trip, when a test wants it
        try:
            result = await self._answer(method, params)
        except ApiError as err:
            self._record(Call(method, params, ok=False, at=arrived))
            return error_response(err.code, err.description, err.parameters)
        self._record(Call(method, params, result=result, at=arrived))
        return JSONResponse({"ok": True, "result": result})

    async def _download(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return error_response(401, "Unauthorized")
        path = request.path_params["path"]
        for stored in self._files.values():
            if stored.file_path == path:
                return Response(stored.data, media_type=stored.mime)
        return error_response(404, "Not Found")

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._changed.set()

    async def _answer(self, method: str, params: JSONDict) -> Any:
        name = method.lower()
        scripted = self._take_scripted(name, params)
        if scripted is not None:
            if not scripted.ok:
                raise ApiError(scripted.error_code, scripted.description, scripted.parameters)
            if scripted.result is not None:
                return scripted.result
        if name == "getupdates":
            return await self._get_updates(params)
        handler = self._handlers.get(name)
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        return handler(params)

    def _take_scripted(self, name: str, params: JSONDict) -> Scripted | None:
        for index, (method, entry) in enumerate(self._scripted):
            if method == name and (
                entry.chat_id is None or same_chat(params.get("chat_id"), entry.chat_id)
            ):
                del self._scripted[index]
                return entry
        return None
