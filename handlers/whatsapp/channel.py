"""The WhatsApp channel through Twilio: sending within the 24-hour window, templates outside it.

Outbound goes through twilio's async client; inbound arrives on the web edge (webhooks.py).
The number is handled only in memory, never logged.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from starlette.routing import Route
from twilio.base.exceptions import TwilioRestException

from flows.events import MediaRef
from handlers.base import (
    DeliveryError,
    OutsideWindow,
    PermanentFailure,
    RecipientUnreachable,
    RenderedMessage,
    RetryLater,
    SentMessage,
    TemporaryFailure,
)
from handlers.telegram.hosting import MediaLinks
from handlers.whatsapp import window
from handlers.whatsapp.parse import NAME, PREFIX
from handlers.whatsapp.render import compose, split_body
from handlers.whatsapp.twilio_client import make_twilio_client
from handlers.whatsapp.webhooks import INBOUND_PATH, STATUS_PATH, SignedForms, WhatsAppWebhooks
from handlers.whatsapp.window import OUTSIDE_WINDOW_CODES, TEMPLATE_KINDS, window_open

log = logging.getLogger(__name__)

# Opted out (STOP), blocked the business, or not reachable on WhatsApp at all.
UNREACHABLE_CODES = frozenset({21610, 63014, 63024, 63003})
RATE_LIMIT_CODES = frozenset({20429, 63018, 14107})
DEFAULT_RETRY = 2.0
MAX_QUICK_REPLIES = 3
# Twilio sends WhatsApp media at about 1.5 a second per sender (text at 10): a media message
# whose turn is further off than this goes as a link in its words, at the text pace.
MEDIA_PER_SECOND = 1.5
MEDIA_WAIT_AT_MOST = 5.0
# Our clock against Twilio's when asking what was sent since an attempt; Twilio filters by second.
CLOCK_SLACK = timedelta(seconds=30)
MAX_BUTTON_TITLE = 20  # WhatsApp refuses longer quick-reply titles; then numbered lines are used
WHATSAPP_MEDIA_MAX = 16_000_000  # WhatsApp's limit for audio and video


def classify(error: TwilioRestException) -> DeliveryError:
    code, status = error.code, error.status or 0
    detail = f"twilio {code or status}"
    if code in OUTSIDE_WINDOW_CODES:
        return OutsideWindow(detail)
    if code in UNREACHABLE_CODES:
        return RecipientUnreachable(detail)
    if status == 429 or code in RATE_LIMIT_CODES:
        return RetryLater(DEFAULT_RETRY, detail)
    if status >= 500:
        return TemporaryFailure(detail)
    if status == 401:  # our credentials: retried with back-off while someone fixes them
        return TemporaryFailure(detail)
    return PermanentFailure(detail)


class WhatsAppSender:
    """Sends one rendered message; decides between free text, a template, or waiting."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        api_base_url: str | None = None,
        status_callback: str | None = None,
        clock: Any,
        template_sid: str | None = None,
        template_sids: dict[str, str] | None = None,
        quick_reply_sids: dict[str, str] | None = None,
        window_hours: float = 24.0,
        media_link: Callable[[MediaRef], str | None] | None = None,
    ) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.media_link = media_link
        self.from_address = PREFIX + from_number.removeprefix(PREFIX)
        self.api_base_url = api_base_url
        self.status_callback = status_callback
        self.clock = clock
        self.template_sid = template_sid
        self.template_sids = template_sids or {}
        self.quick_reply_sids = quick_reply_sids or {}
        self.window_hours = window_hours
        self._client: Any = None
        self.media_per_second = MEDIA_PER_SECOND
        self.media_wait_at_most = MEDIA_WAIT_AT_MOST
        self._media_free = 0.0

    @property
    def client(self) -> Any:
        if self._client is None:  # the aiohttp session binds to the running loop
            self._client = make_twilio_client(self.account_sid, self.auth_token, self.api_base_url)
            self._client.http_client.timeout = 30
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.http_client.close()
            self._client = None

    def template_for(self, language: str) -> str | None:
        return self.template_sids.get(language) or self.template_sid

    async def send(self, address: str, message: RenderedMessage) -> SentMessage:
        if message.kind == "delete":
            return SentMessage(None)  # WhatsApp cannot delete her messages; nothing to do here
        last_inbound = message.extra.get("last_inbound_at")
        if not window_open(last_inbound, self.clock.now(), self.window_hours):  # type: ignore[arg-type]
            template = self.template_for(message.language)
            if message.kind in TEMPLATE_KINDS and template:
                # Her choices go in the template's words, numbered, so she can type one.
                words = compose(message) if message.buttons else message.text
                return await self._create(
                    address, content_sid=template, content_variables=json.dumps({"1": words})
                )
            raise OutsideWindow("the 24-hour window is closed")
        media_url = None
        if message.media is not None and self.media_link is not None:
            media_url = self.media_link(message.media)  # a Telegram voice note, say
        notice = message.media is not None and media_url is None
        link = None
        if media_url is not None and not await self._media_turn():
            # Twilio takes media far slower than text: rather than queue behind the others,
            # the file goes as its link in the words.
            link, media_url = media_url, None
        choices = [b for b in message.buttons if not b.url]
        quick = self.quick_reply_sids.get(str(len(choices)))
        fits = all(len(b.label) <= MAX_BUTTON_TITLE for b in choices)
        only_choices = len(choices) == len(message.buttons) <= MAX_QUICK_REPLIES
        if quick and choices and only_choices and fits and media_url is None and link is None:
            variables = {"1": compose(replace(message, buttons=()), media_notice=notice)}
            for index, button in enumerate(choices):
                variables[str(2 + 2 * index)] = button.label
                variables[str(3 + 2 * index)] = button.choice
            return await self._create(
                address, content_sid=quick, content_variables=json.dumps(variables)
            )
        sent = SentMessage(None)
        words = compose(message, media_notice=notice)
        if link is not None:
            words = f"{words}\n\n{link}" if words else link
        for index, part in enumerate(split_body(words)):
            media = {"media_url": [media_url]} if media_url and index == 0 else {}
            sent = await self._create(address, body=part, **media)
        return sent

    async def _media_turn(self) -> bool:
        """Whether a media message may go as media: its slot at `media_per_second` comes within
        `media_wait_at_most` (then it waits for it); later than that it goes as a link."""
        now = self.clock.now().timestamp()
        slot = max(now, self._media_free)
        if slot - now > self.media_wait_at_most:
            return False
        self._media_free = slot + 1 / self.media_per_second
        if slot > now:
            await self.clock.sleep(slot - now)
        return True

    async def find_sent(
        self, address: str, message: RenderedMessage, since: datetime
    ) -> list[SentMessage]:
        """Messages Twilio holds to her from our number since `since` that carry these words,
        oldest first: a send cut off by a crash after Twilio took it is found here.

        Twilio takes no idempotency key; its message list is the record. Free text is matched
        by its first part; a template or quick-reply message by her words within it.
        """
        if message.kind == "delete":
            return []
        first = split_body(compose(message))[0]
        try:
            found = await self.client.messages.list_async(
                to=PREFIX + address.removeprefix(PREFIX),
                from_=self.from_address,
                date_sent_after=since - CLOCK_SLACK,
                limit=50,
            )
        except TwilioRestException as error:
            raise classify(error) from None
        except (TimeoutError, aiohttp.ClientError) as error:
            raise TemporaryFailure(type(error).__name__) from None
        ours = [
            m
            for m in found
            if (m.body or "") == first or (message.text and message.text in (m.body or ""))
        ]
        ours.sort(key=lambda m: (m.date_created or since, m.sid))
        return [SentMessage(m.sid) for m in ours]

    async def _create(self, address: str, **fields: Any) -> SentMessage:
        if self.status_callback:
            fields["status_callback"] = self.status_callback
        try:
            resource = await self.client.messages.create_async(
                to=PREFIX + address.removeprefix(PREFIX), from_=self.from_address, **fields
            )
        except TwilioRestException as error:
            raise classify(error) from None
        except (TimeoutError, aiohttp.ClientError) as error:
            raise TemporaryFailure(type(error).__name__) from None
        return SentMessage(resource.sid)


class WhatsAppChannel:
    """Twilio's WhatsApp: the sender for the outbox and the two signed webhooks."""

    name = NAME

    def __init__(
        self,
        sender: WhatsAppSender,
        *,
        router: Any,
        session_factory: Any,
        clock: Any,
        journal: Any = None,
        auth_token: str,
        public_url: str | None,
        max_body_bytes: int = 1_000_000,
        on_released: Any = None,
    ) -> None:
        self.sender = sender
        self.router = router
        self.journal = journal
        self.session_factory = session_factory
        self.clock = clock
        self.on_released = on_released or (lambda: None)
        self.webhooks = WhatsAppWebhooks(
            self, SignedForms(auth_token, public_url, max_body_bytes), sender.account_sid
        )

    @classmethod
    def from_settings(cls, service: Any) -> "WhatsAppChannel":
        settings = service.settings
        public_url = settings.public_url.rstrip("/") if settings.public_url else None
        sender = WhatsAppSender(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.twilio_whatsapp_from,
            api_base_url=settings.twilio_api_base_url,
            status_callback=public_url + STATUS_PATH if public_url else None,
            clock=service.clock,
            template_sid=settings.twilio_template_sid,
            template_sids=settings.twilio_template_sids,
            quick_reply_sids=settings.twilio_quick_reply_sids,
            window_hours=settings.whatsapp_window_hours,
            media_link=_telegram_media_links(settings, public_url),
        )
        return cls(
            sender,
            router=service.router,
            session_factory=service.session_factory,
            clock=service.clock,
            journal=service.journal,
            auth_token=settings.twilio_auth_token,
            public_url=public_url,
            max_body_bytes=settings.max_body_bytes,
            on_released=service.sender.wake,
        )

    async def start(self, *, receive: bool = True) -> None:
        """Nothing to connect ahead: Twilio calls us, and the client opens on first send."""

    async def stop(self) -> None:
        await self.sender.close()

    def routes(self) -> list[Any]:
        return [
            Route(INBOUND_PATH, self.webhooks.inbound, methods=["POST"]),
            Route(STATUS_PATH, self.webhooks.status, methods=["POST"]),
        ]

    async def send(self, address: str, message: RenderedMessage) -> SentMessage:
        return await self.sender.send(address, message)

    async def find_sent(
        self, address: str, message: RenderedMessage, since: datetime
    ) -> list[SentMessage]:
        return await self.sender.find_sent(address, message, since)

    async def process(self, payload: bytes, entry: Any) -> None:
        """One journaled inbound message, as the webhook received it."""
        await self.webhooks.process(payload, entry)

    async def release_waiting(self, address: str) -> None:
        """She wrote: messages that waited for her window are due now."""
        async with self.session_factory() as session, session.begin():
            participant = await self.router.find_participant(session, NAME, address)
            if participant is None:
                return
            released = await window.release_waiting(session, participant.id, self.clock.now())
        if released:
            self.on_released()


def _telegram_media_links(settings: Any, public_url: str | None) -> Any:
    """Signed links to Telegram files, when both channels run and the edge is public."""
    if not (settings.telegram_enabled and public_url):
        return None
    links = MediaLinks(settings.telegram_secret(), public_url, WHATSAPP_MEDIA_MAX)
    return links.link
