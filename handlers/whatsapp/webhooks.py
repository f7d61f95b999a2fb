"""The WhatsApp web edge: signed inbound messages and status callbacks from Twilio.

Both routes check `X-Twilio-Signature` with twilio's RequestValidator over PUBLIC_URL + path
(so it works behind a TLS-terminating proxy) and the full form, repeated fields included.
"""

import logging
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import select, update
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from twilio.request_validator import RequestValidator

from flows import metrics
from flows.events import EventKind
from handlers.http import read_body
from handlers.journal import Delivery, JournalEntry, JournalUnavailable
from handlers.refusals import unusable_event, unusable_text
from handlers.whatsapp.parse import (
    NAME,
    STATUS_RANK,
    NotAMessage,
    StatusUpdate,
    parse_inbound,
    parse_status,
    unusable_form,
)
from handlers.whatsapp.window import OUTSIDE_WINDOW_CODES, wait_for_window
from models import OutboxMessage, OutboxStatus, Participant, ParticipantStatus

log = logging.getLogger(__name__)

INBOUND_PATH = "/whatsapp/webhook"
STATUS_PATH = "/whatsapp/status"
FORM_TYPE = "application/x-www-form-urlencoded"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
STOPPING_CODES = frozenset({21610, 63014})
DELIVERY_STATUS = {1: OutboxStatus.SENT, 2: OutboxStatus.DELIVERED, 3: OutboxStatus.READ}
STATUS_ORDER = [OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.READ]


class SignedForms:
    """Reads a Twilio form and checks its signature; the answer is a form or a 4xx response."""

    def __init__(self, auth_token: str, public_url: str | None, max_body_bytes: int) -> None:
        self.validator = RequestValidator(auth_token)
        self.public_url = public_url.rstrip("/") if public_url else None
        self.max_body_bytes = max_body_bytes

    def url_of(self, request: Request) -> str:
        if not self.public_url:
            return str(request.url)
        query = f"?{request.url.query}" if request.url.query else ""
        return f"{self.public_url}{request.url.path}{query}"

    async def read(self, request: Request) -> ImmutableMultiDict | Response:

        signature = request.headers.get("x-twilio-signature")
        if not signature:
            return PlainTextResponse("forbidden", status_code=403)
        if request.headers.get("content-type", "").split(";")[0].strip() != FORM_TYPE:
            return PlainTextResponse("send a form", status_code=415)
        body = await read_body(request, self.max_body_bytes)
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except (UnicodeDecodeError, ValueError):
            return PlainTextResponse("malformed form", status_code=400)
        for key, value in pairs:
            reason = unusable_text(key) or unusable_text(value)
            if reason:
                return PlainTextResponse(reason, status_code=400)
        form = ImmutableMultiDict(pairs)
        if not self.validator.validate(self.url_of(request), form, signature):
            return PlainTextResponse("forbidden", status_code=403)
        return form


class WhatsAppWebhooks:
    def __init__(self, channel: Any, forms: SignedForms, account_sid: str | None = None) -> None:
        self.channel = channel
        self.forms = forms
        self.account_sid = account_sid

    async def inbound(self, request: Request) -> Response:
        form = await self.forms.read(request)
        if isinstance(form, Response):
            metrics.updates_in.labels(NAME, "rejected").inc()
            return form
        refusal = unusable_form(form, self.account_sid, inbound=True)
        try:
            event = parse_inbound(form)
        except NotAMessage:
            refusal = refusal or "MessageSid and From are required"
        refusal = refusal or unusable_event(event)
        if refusal is not None:
            metrics.updates_in.labels(NAME, "malformed").inc()
            return PlainTextResponse(refusal, status_code=400)
        assert event.message_id is not None
        payload = urlencode(list(form.multi_items())).encode()
        try:
            await self.channel.journal.append(
                Delivery(NAME, event.message_id, event.address, payload)
            )
        except JournalUnavailable:
            return PlainTextResponse("busy", status_code=503, headers={"Retry-After": "1"})
        return Response(EMPTY_TWIML, media_type="text/xml")

    async def process(self, payload: bytes, entry: JournalEntry) -> None:
        """Handle a message the webhook journaled; her window reopens once she has written."""
        form = ImmutableMultiDict(parse_qsl(payload.decode(), keep_blank_values=True))
        event = parse_inbound(form)
        outcome = await self.channel.router.handle(event, entry)
        metrics.updates_in.labels(NAME, outcome.value).inc()
        if event.kind != EventKind.BLOCKED and outcome != "duplicate":
            await self.channel.release_waiting(event.address)

    async def status(self, request: Request) -> Response:
        form = await self.forms.read(request)
        if isinstance(form, Response):
            return form
        if form.get("MessageSid") or form.get("SmsSid"):
            refusal = unusable_form(form, self.account_sid, inbound=False)
            if refusal is not None:
                return PlainTextResponse(refusal, status_code=400)
        status = parse_status(form)
        if status is not None:
            await self.apply_status(status)
        return Response(status_code=204)

    async def apply_status(self, status: StatusUpdate) -> None:
        """Record delivery progress; a failed send to someone who opted out stops her."""
        service = self.channel
        async with service.session_factory() as session, session.begin():
            row = (
                await session.execute(
                    select(OutboxMessage).where(
                        OutboxMessage.channel == NAME,
                        OutboxMessage.channel_message_id == status.message_sid,
                    )
                )
            ).scalar_one_or_none()
            if row is not None:
                if status.failed and status.error_code in OUTSIDE_WINDOW_CODES:
                    if wait_for_window(row):
                        return
                if status.failed:
                    row.status = OutboxStatus.FAILED
                    row.error = f"twilio {status.error_code or status.status}"[:120]
                elif status.status in STATUS_RANK and STATUS_RANK[status.status] > 0:
                    new = DELIVERY_STATUS[STATUS_RANK[status.status]]
                    if _later(new, row.status):
                        row.status = new
                if row.status != OutboxStatus.SENT:
                    # A final status: the words kept for a late 63016 go now.
                    row.params = row.media = None
            if not (status.failed and status.error_code in STOPPING_CODES):
                return
            participant = None
            if row is not None:
                participant = await session.get(Participant, row.participant_id)
            elif status.recipient:
                participant = await service.router.find_participant(session, NAME, status.recipient)
            if participant is not None:
                await stop_participant(session, participant)


def _later(new: str, current: str) -> bool:
    if current not in STATUS_ORDER:
        return current in (OutboxStatus.SENDING, OutboxStatus.PENDING)
    return STATUS_ORDER.index(new) > STATUS_ORDER.index(current)


async def stop_participant(session: Any, participant: Participant) -> None:
    """She opted out: nothing more goes to her, and nothing waiting keeps her words."""
    if participant.status == ParticipantStatus.ACTIVE:
        participant.status = ParticipantStatus.STOPPED
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.participant_id == participant.id,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.DROPPED, params=None, media=None, error="recipient stopped")
    )
