"""What travels between python-telegram-bot and the fake Bot API: calls, files, errors, requests.

PTB sends form fields (JSON-encoded unless they are strings) or multipart uploads; these helpers
decode them back to Python values and build Telegram's error bodies and chat objects.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse

JSONDict = dict[str, Any]

# PTB sends ``str`` parameters verbatim and JSON-encodes everything else (ints, bools, dicts),
# all as form fields. So a field is JSON-decoded unless it is one of these string-typed fields,
# where decoding would turn a text of "123" or "true" into a number or a bool.
STRING_FIELDS = frozenset(
    {
        "action", "audio", "animation", "business_connection_id", "callback_query_id",
        "caption", "description", "document", "emoji", "file_id", "inline_message_id",
        "ip_address", "language_code", "message_effect_id", "name", "parse_mode", "performer",
        "photo", "secret_token", "short_description", "sticker", "text", "thumbnail", "title",
        "url", "video", "video_note", "voice",
    }
)  # fmt: skip


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
    result: Any = None  # what the fake answered (e.g. the sent Message), when ok
    at: float = field(default_factory=time.monotonic)  # when it arrived, to count rates


@dataclass
class Scripted:
    ok: bool
    result: Any
    error_code: int
    description: str
    parameters: JSONDict | None
    chat_id: int | str | None


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    mime: str
    file_path: str


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


@dataclass
class Webhook:
    url: str = ""
    secret: str | None = None
    allowed_updates: list[str] | None = None


async def read_params(request: Request) -> JSONDict:
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
    if name in STRING_FIELDS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # e.g. chat_id="@channel"


def error_response(code: int, description: str, parameters: JSONDict | None = None) -> JSONResponse:
    body: JSONDict = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=code)


def same_chat(a: object, b: object) -> bool:
    return a is not None and str(a) == str(b)


def chat_json(chat_id: int | str, first_name: str = "Test") -> JSONDict:
    if isinstance(chat_id, str) and not chat_id.lstrip("-").isdigit():
        return {"id": -1001, "type": "channel", "title": "Channel", "username": chat_id.lstrip("@")}
    chat_id = int(chat_id)
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": first_name}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": "Test group"}
