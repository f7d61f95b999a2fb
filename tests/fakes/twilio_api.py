"""A fake Twilio Messages API for end-to-end tests with the real twilio client.

The app's client (``handlers.whatsapp.twilio_client.make_twilio_client(..., api_base_url=
tw.base_url)``) talks real HTTP to it, so twilio's form encoding, basic auth and error parsing
(``TwilioRestException.code``) are exercised as in production. ``sign_twilio_request`` and
``deliver_webhook`` cover the other direction: Twilio calling the app's signed webhook.

Usage::

    async with FakeTwilioAPI(account_sid="AC" + "0" * 32, auth_token="secret") as tw:
        tw.add_error(status=400, code=63016)
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from tests.fakes import LocalServer

__all__ = ["FakeTwilioAPI", "TwilioParams", "sign_twilio_request"]

API = "/2010-04-01/Accounts/{account_sid}"
JSONDict = dict[str, Any]
TwilioParams = Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]]

# Fields Twilio documents as repeatable; recorded as lists even when sent once.
_REPEATABLE = frozenset({"MediaUrl", "PersistentAction"})

_DEFAULT_CODES = {400: 63016, 401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}
_DEFAULT_MESSAGES = {
    63016: "Failed to send freeform message because you are outside the allowed window. "
    "If you are using WhatsApp, please use a Message Template.",
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    20503: "Service unavailable",
    21211: "Invalid 'To' Phone Number",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
}


def sign_twilio_request(auth_token: str, url: str, params: TwilioParams) -> str:
    """The ``X-Twilio-Signature`` Twilio would send for a form POST of ``params`` to ``url``.

    Computed by twilio's own ``RequestValidator``; repeated fields (a list value, or the same
    name twice in a list of pairs) are all signed. To validate repeated fields the app must hand
    the validator a multi-dict with ``getlist`` (Starlette's ``await request.form()`` works); a
    plain dict with list values makes ``RequestValidator`` fail on an unhashable list.
    """
    return RequestValidator(auth_token).compute_signature(url, ImmutableMultiDict(_pairs(params)))


def _pairs(params: TwilioParams) -> list[tuple[str, str]]:
    if isinstance(params, Mapping):
        pairs: list[tuple[str, str]] = []
        for key, value in params.items():
            values = [value] if isinstance(value, str) else list(value)
            pairs.extend((key, v) for v in values)
        return pairs
    return list(params)


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _now_rfc2822() -> str:
    return format_datetime(datetime.now(UTC).replace(microsecond=0))


@dataclass
class _ScriptedError:
    status: int
    code: int
    message: str
    to: str | None
    retry_after: int | None


@dataclass
class _Media:
    data: bytes
    content_type: str


class FakeTwilioAPI:
    """Twilio's Messages resource and media URLs on 127.0.0.1, as an async context manager.

    ``messages`` holds the form fields of every accepted send (``MediaUrl`` always a list, any
    other field a list only when repeated); ``attempts`` holds every send, rejected ones too.
    Accepted messages are also kept as Twilio's message resources and listed as Twilio lists
    them (``GET Messages.json`` filtered by ``To``, ``From``, ``DateSent``, ``DateSent>``,
    ``DateSent<``; newest first, paged): the fake sends at once, so ``date_sent`` is the moment
    the message was accepted.
    """

    def __init__(self, account_sid: str = "AC" + "0" * 32, auth_token: str = "token") -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[JSONDict] = []
        self.attempts: list[JSONDict] = []
        self._created: list[tuple[datetime, JSONDict]] = []
        # Seconds each accepted send takes to answer, after the message exists at "Twilio":
        # a sender killed meanwhile never hears of a message that was created.
        self.latency = 0.0
        self.arrivals: list[tuple[float, str]] = []  # (monotonic time, To) of accepted sends
        self._errors: list[_ScriptedError] = []
        self._media: dict[tuple[str, str], _Media] = {}
        self._server = LocalServer(
            Starlette(
                routes=[
                    Route(API + "/Messages.json", self._create_message, methods=["POST"]),
                    Route(API + "/Messages.json", self._list_messages, methods=["GET"]),
                    Route(API + ".json", self._account, methods=["GET"]),
                    Route(
                        API + "/Messages/{message_sid}/Media/{media_sid}",
                        self._get_media,
                        methods=["GET"],
                    ),
                    Route("/{path:path}", self._not_found, methods=["GET", "POST", "DELETE"]),
                ]
            )
        )

    async def __aenter__(self) -> FakeTwilioAPI:
        await self._server.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._server.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: pass as ``api_base_url`` to ``make_twilio_client``."""
        return self._server.url

    # -- scripting and inspection ------------------------------------------------------------

    def add_error(
        self,
        status: int = 400,
        code: int | None = None,
        message: str | None = None,
        *,
        to: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Fail the next send (to ``to`` only, if given) with Twilio's error JSON.

        ``code`` defaults by status (400 → 63016 outside the 24 h window, 429 → 20429, 500 →
        20500); ``retry_after`` adds a ``Retry-After`` header. Errors are consumed in order.
        """
        code = code if code is not None else _DEFAULT_CODES.get(status, status)
        message = message or _DEFAULT_MESSAGES.get(code, "Error")
        self._errors.append(_ScriptedError(status, code, message, to, retry_after))

    def add_media(self, data: bytes, content_type: str = "image/jpeg") -> str:
        """Host ``data`` like an inbound message's media; returns its (basic-auth) URL."""
        message_sid, media_sid = _sid("MM"), _sid("ME")
        self._media[(message_sid, media_sid)] = _Media(data, content_type)
        path = API.format(account_sid=self.account_sid)
        return f"{self.base_url}{path}/Messages/{message_sid}/Media/{media_sid}"

    def bodies(self, to: str | None = None) -> list[str]:
        """``Body`` of every accepted send, optionally only those to ``to``."""
        return [m.get("Body", "") for m in self.messages if to is None or m.get("To") == to]

    def clear(self) -> None:
        self.messages.clear()
        self.attempts.clear()
        self._created.clear()
        self.arrivals.clear()
        self._errors.clear()

    # -- the other direction: Twilio calling the app ----------------------------------------

    def make_inbound(
        self,
        from_: str,
        body: str = "",
        *,
        to: str = "whatsapp:+14155238886",
        profile_name: str = "Test",
        media: Sequence[tuple[str, str]] = (),
    ) -> dict[str, str]:
        """Form fields of an inbound WhatsApp message webhook; ``media`` is (url, content type)."""
        sid = _sid("SM" if not media else "MM")
        params = {
            "SmsMessageSid": sid,
            "NumMedia": str(len(media)),
            "ProfileName": profile_name,
            "MessageType": "text" if not media else media[0][1].split("/")[0],
            "SmsSid": sid,
            "WaId": from_.removeprefix("whatsapp:").lstrip("+"),
            "SmsStatus": "received",
            "Body": body,
            "To": to,
            "NumSegments": "1",
            "ReferralNumMedia": "0",
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "ApiVersion": "2010-04-01",
        }
        for index, (url, content_type) in enumerate(media):
            params[f"MediaUrl{index}"] = url
            params[f"MediaContentType{index}"] = content_type
        return params

    def make_status(
        self,
        message_sid: str,
        status: str,
        *,
        to: str,
        error_code: int | None = None,
        from_: str = "whatsapp:+14155238886",
    ) -> dict[str, str]:
        """Form fields of a status callback for a message we accepted (``ErrorCode`` when it
        failed or was undelivered, as Twilio sends it)."""
        params = {
            "ChannelPrefix": "whatsapp",
            "ApiVersion": "2010-04-01",
            "MessageStatus": status,
            "SmsSid": message_sid,
            "SmsStatus": status,
            "ChannelInstallSid": "XE" + "0" * 32,
            "To": to,
            "From": from_,
            "MessageSid": message_sid,
            "AccountSid": self.account_sid,
            "ChannelToAddress": to.removeprefix("whatsapp:"),
        }
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return params

    async def deliver_webhook(self, url: str, params: TwilioParams) -> int:
        """POST ``params`` form-encoded to ``url`` with a valid ``X-Twilio-Signature``."""
        headers = {"X-Twilio-Signature": sign_twilio_request(self.auth_token, url, params)}
        async with httpx.AsyncClient(timeout=15) as client:  # Twilio's own webhook timeout
            response = await client.post(url, data=_pairs_as_httpx(params), headers=headers)
        return response.status_code

    # -- HTTP -------------------------------------------------------------------------------

    def _authorized(self, request: Request) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        path_sid = request.path_params.get("account_sid")
        return (user, password) == (self.account_sid, self.auth_token) and path_sid == user

    async def _account(self, request: Request) -> Response:
        """The account resource: what a credentials check fetches."""
        if not self._authorized(request):
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, 401)
        return JSONResponse({"sid": self.account_sid, "status": "active"})

    async def _create_message(self, request: Request) -> Response:
        if not self._authorized(request):
            return _twilio_error(401, 20003)
        form = await request.form()
        fields = _record_fields(form.multi_items())
        self.attempts.append(fields)
        scripted = self._take_error(fields.get("To"))
        if scripted is not None:
            headers = {"Retry-After": str(scripted.retry_after)} if scripted.retry_after else None
            return _twilio_error(scripted.status, scripted.code, scripted.message, headers)
        missing = self._missing_field(fields)
        if missing is not None:
            return _twilio_error(400, missing)
        self.messages.append(fields)
        self.arrivals.append((time.monotonic(), fields["To"]))
        resource = self._message_resource(fields)
        at = datetime.now(UTC).replace(microsecond=0)
        self._created.append((at, {**resource, "date_sent": format_datetime(at), "status": "sent"}))
        if self.latency:
            await asyncio.sleep(self.latency)
        return JSONResponse(resource, status_code=201)

    async def _list_messages(self, request: Request) -> Response:
        if not self._authorized(request):
            return _twilio_error(401, 20003)
        query = request.query_params
        try:
            on, after, before = (
                _query_date(query.get(k)) for k in ("DateSent", "DateSent>", "DateSent<")
            )
            size = min(int(query.get("PageSize", 50)), 1000)
            page = int(query.get("Page", 0))
        except ValueError:
            return _twilio_error(400, 20001, "Invalid filter")
        found = [
            resource
            for at, resource in reversed(self._created)
            if query.get("To") in (None, resource["to"])
            and query.get("From") in (None, resource["from"])
            and (after is None or at >= after)
            and (before is None or at <= before)
            and (on is None or at.date() == on.date())
        ]
        chunk = found[page * size : (page + 1) * size]
        uri = f"{API.format(account_sid=self.account_sid)}/Messages.json"
        more = len(found) > (page + 1) * size
        rest = urlencode([(k, v) for k, v in query.multi_items() if k not in ("Page", "PageSize")])
        next_uri = f"{uri}?{rest}&Page={page + 1}&PageSize={size}" if more else None
        return JSONResponse(
            {
                "messages": chunk,
                "end": page * size + max(len(chunk) - 1, 0),
                "first_page_uri": f"{uri}?PageSize={size}&Page=0",
                "next_page_uri": next_uri,
                "page": page,
                "page_size": size,
                "previous_page_uri": None,
                "start": page * size,
                "uri": f"{uri}?PageSize={size}&Page={page}",
            }
        )

    def _take_error(self, to: str | None) -> _ScriptedError | None:
        for index, error in enumerate(self._errors):
            if error.to is None or error.to == to:
                return self._errors.pop(index)
        return None

    @staticmethod
    def _missing_field(fields: JSONDict) -> int | None:
        if not fields.get("To"):
            return 21604
        if not fields.get("From") and not fields.get("MessagingServiceSid"):
            return 21603
        if not (fields.get("Body") or fields.get("MediaUrl") or fields.get("ContentSid")):
            return 21602
        return None

    def _message_resource(self, fields: JSONDict) -> JSONDict:
        sid, now = _sid("SM"), _now_rfc2822()
        uri = f"{API.format(account_sid=self.account_sid)}/Messages/{sid}"
        service = fields.get("MessagingServiceSid")
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": fields.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": fields.get("From"),
            "messaging_service_sid": service,
            "num_media": str(len(fields.get("MediaUrl", []))),
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": fields["To"],
            "uri": f"{uri}.json",
        }

    async def _get_media(self, request: Request) -> Response:
        if not self._authorized(request):
            return _twilio_error(401, 20003)
        key = (request.path_params["message_sid"], request.path_params["media_sid"])
        media = self._media.get(key)
        if media is None:
            return _twilio_error(404, 20404)
        return Response(media.data, media_type=media.content_type)

    async def _not_found(self, request: Request) -> Response:
        return _twilio_error(404, 20404, f"The requested resource {request.url.path} was not found")


def _query_date(value: str | None) -> datetime | None:
    """Twilio's ``DateSent`` filters: ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SSZ``, in UTC."""
    if not value:
        return None
    if len(value) == 10:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _record_fields(items: Sequence[tuple[str, Any]]) -> JSONDict:
    fields: JSONDict = {}
    for key, value in items:
        value = str(value)
        if key in _REPEATABLE:
            fields.setdefault(key, []).append(value)
        elif key in fields:
            previous = fields[key]
            fields[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[key] = value
    return fields


def _pairs_as_httpx(params: TwilioParams) -> dict[str, list[str]]:
    """httpx wants repeated form fields as one key with a list value."""
    grouped: dict[str, list[str]] = {}
    for key, value in _pairs(params):
        grouped.setdefault(key, []).append(value)
    return grouped


def _twilio_error(
    status: int, code: int, message: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {
        "code": code,
        "message": message or _DEFAULT_MESSAGES.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status, headers=headers)
