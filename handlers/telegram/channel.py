"""The Telegram channel: python-telegram-bot for the Bot API, our own web edge for webhooks.

With PUBLIC_URL set the bot registers `PUBLIC_URL/telegram/webhook` (with a secret token) and
updates arrive through the web edge; without it PTB's updater long-polls. Either way each update
is committed to the inbound journal before it is acknowledged, then processed from there.
"""

import asyncio
import contextlib
import hmac
import json
import logging
import time
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, ApplicationBuilder

from flows import metrics
from handlers.base import ChannelStartError, RenderedMessage, SentMessage
from handlers.http import read_body
from handlers.journal import JournalEntry, JournalUnavailable
from handlers.refusals import unusable_event, unusable_json
from handlers.telegram import commands
from handlers.telegram.hosting import MediaLinks
from handlers.telegram.intake import bot_id_of, delivery_of
from handlers.telegram.parse import ALLOWED_UPDATES, NAME, ParsedUpdate, parse_update
from handlers.telegram.sending import MediaFetcher, TelegramSender
from handlers.whatsapp.media import fetch_twilio_media
from i18n import N_, normalise_language, translate

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "x-telegram-bot-api-secret-token"
GROUP_REFUSAL = N_("telegram.group_refusal")
GROUP_COOLDOWN = 3600.0  # a group hears the refusal at most once an hour


class TelegramChannel:
    name = NAME

    def __init__(
        self,
        token: str,
        *,
        router: Any,
        journal: Any = None,
        api_base_url: str = "https://api.telegram.org",
        public_url: str | None = None,
        webhook: bool | None = None,
        secret: str,
        default_language: str = "en",
        max_body_bytes: int = 1_000_000,
        fetch_media: MediaFetcher | None = None,
        extra_commands: tuple[str, ...] = (),
        media_max_bytes: int = 16_000_000,
        discreet: bool = False,
    ) -> None:
        self.router = router
        self.journal = journal
        self.public_url = public_url.rstrip("/") if public_url else None
        self.webhook_mode = bool(self.public_url) if webhook is None else webhook
        self.secret = secret
        self.default_language = default_language
        self.max_body_bytes = max_body_bytes
        self.extra_commands = extra_commands
        self.discreet = discreet
        self.bot_id = bot_id_of(token)
        base = api_base_url.rstrip("/").removesuffix("/bot")  # PTB's own form works too
        self.api_base_url = base
        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(f"{base}/bot")
            .base_file_url(f"{base}/file/bot")
        )
        if self.webhook_mode:
            builder = builder.updater(None)  # webhook mode: updates come through our route
        self.application: Application = builder.build()
        self.sender = TelegramSender(self.application.bot, fetch_media)
        self.media_links = (
            MediaLinks(secret, self.public_url, media_max_bytes) if self.public_url else None
        )
        self.bot_username: str | None = None
        self._refused_groups: dict[int, float] = {}
        self._poll_task: asyncio.Task[None] | None = None
        self._initialized = False

    @classmethod
    def from_settings(cls, service: Any) -> "TelegramChannel":
        settings = service.settings
        fetch_media = None
        if settings.whatsapp_enabled:
            fetch_media = partial(
                fetch_twilio_media,
                account_sid=settings.twilio_account_sid,
                auth_token=settings.twilio_auth_token,
                api_base_url=settings.twilio_api_base_url,
                max_bytes=settings.media_max_bytes,
            )
        return cls(
            settings.telegram_bot_token,
            router=service.router,
            journal=service.journal,
            api_base_url=settings.telegram_api_base_url,
            public_url=settings.public_url,
            webhook=settings.telegram_webhook,
            secret=settings.telegram_secret(),
            default_language=settings.default_language,
            max_body_bytes=settings.max_body_bytes,
            fetch_media=fetch_media,
            extra_commands=tuple(service.router.routes.commands),
            media_max_bytes=settings.media_max_bytes,
            discreet=settings.discreet,
        )

    @property
    def bot(self) -> Any:
        return self.application.bot

    @property
    def mode(self) -> str:
        return "webhook" if self.webhook_mode else "polling"

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, *, receive: bool = True) -> None:
        """Connect (getMe); when receiving, publish the menu and register the webhook or poll."""
        try:
            await self.application.initialize()
        except InvalidToken:  # its message holds the token: never let it reach a log
            raise ChannelStartError(
                "the Bot API refused the token (401): check TELEGRAM_BOT_TOKEN"
            ) from None
        except TelegramError as error:
            raise ChannelStartError(
                f"the Bot API at {self.api_base_url} did not answer ({type(error).__name__}): "
                "check TELEGRAM_API_BASE_URL and the network"
            ) from None
        self._initialized = True
        self.bot_username = self.bot.username
        if not receive:
            return
        await commands.publish(
            self.bot, commands.command_names(self.extra_commands), discreet=self.discreet
        )
        if self.webhook_mode and self.public_url:
            try:
                await self.bot.set_webhook(
                    url=self.public_url + WEBHOOK_PATH,
                    secret_token=self.secret,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            except TelegramError as error:  # the one set by an earlier start may still hold
                log.warning("could not register the Telegram webhook: %s", error.message)
        else:
            assert self.application.updater is not None
            await self.application.updater.start_polling(
                allowed_updates=list(ALLOWED_UPDATES), timeout=20
            )
            self._poll_task = asyncio.create_task(self._take_polled(), name="telegram-polling")

    async def stop_receiving(self, within: float = 10.0) -> None:
        """SIGTERM: fetch nothing more, and journal what was fetched. PTB confirms the updates
        it fetched to Telegram when it stops, so one not yet journaled would never come again."""
        updater = self.application.updater
        if updater is not None and updater.running:
            with contextlib.suppress(Exception):
                await updater.stop()
        if self._poll_task is not None and not self._poll_task.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.application.update_queue.join(), within)

    async def stop(self) -> None:
        await self.stop_receiving()
        if self._poll_task is not None:
            self._poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
            self._poll_task = None
        if self._initialized:
            with contextlib.suppress(Exception):
                await self.application.shutdown()
            self._initialized = False

    async def _take_polled(self) -> None:
        """Journal what PTB's updater fetched, as the webhook route does."""
        queue = self.application.update_queue
        while True:
            fetched = [await queue.get()]
            while not queue.empty():  # one fetch at once: one group commit, in their order
                fetched.append(queue.get_nowait())
            try:
                await asyncio.gather(*(self._journal_polled(update) for update in fetched))
            finally:
                for _ in fetched:
                    queue.task_done()  # `stop_receiving` waits until every fetched one is done

    async def _journal_polled(self, update: Any) -> None:
        if not isinstance(update, Update):
            return
        delivery = delivery_of(update.to_dict(), bot_id=self.bot_id)
        while delivery is not None:
            try:
                if not await self.journal.append(delivery):
                    _dropped_duplicate()
                return
            except JournalUnavailable:
                await asyncio.sleep(1.0)  # the database is away: hold the update, retry

    # -- inbound -----------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        routes = [Route(WEBHOOK_PATH, self.webhook, methods=["POST"])]
        if self.media_links is not None:  # her voice note, fetched by Twilio for WhatsApp
            routes.append(self.media_links.route(self.bot))
        return routes

    async def webhook(self, request: Request) -> Response:

        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret.encode()):
            metrics.updates_in.labels(NAME, "rejected").inc()
            return PlainTextResponse("forbidden", status_code=403)
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return PlainTextResponse("send JSON", status_code=415)
        body = await read_body(request, self.max_body_bytes)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return PlainTextResponse("malformed JSON", status_code=400)
        if not isinstance(data, dict):
            return PlainTextResponse("an update is a JSON object", status_code=400)
        refusal = unusable_json(data)
        if refusal is None:
            event = parse_update(data, self.bot_username).event
            refusal = unusable_event(event) if event is not None else None
        if refusal is not None:
            metrics.updates_in.labels(NAME, "malformed").inc()
            return PlainTextResponse(refusal, status_code=400)
        delivery = delivery_of(data, body, self.bot_id)
        if delivery is None:
            metrics.updates_in.labels(NAME, "ignored").inc()
            return Response(status_code=200)  # nothing in it we could ever act on
        try:
            if not await self.journal.append(delivery):
                _dropped_duplicate()
        except JournalUnavailable:
            return PlainTextResponse("busy", status_code=503, headers={"Retry-After": "1"})
        return Response(status_code=200)

    async def process(self, payload: bytes, entry: JournalEntry) -> None:
        """Handle one journaled update: answer a button, decline a group, or hand her event on."""
        data = json.loads(payload)
        parsed = parse_update(data if isinstance(data, dict) else {}, self.bot_username)
        if parsed.callback_query_id is not None:
            await self._answer_callback(parsed.callback_query_id)
        if parsed.refuse_group is not None:
            await self._refuse_group(parsed)
            await self.router.skip(entry)
            metrics.updates_in.labels(NAME, "group_refused").inc()
            return
        if parsed.event is None:
            await self.router.skip(entry)
            metrics.updates_in.labels(NAME, "ignored").inc()
            return
        outcome = await self.router.handle(parsed.event, entry)
        metrics.updates_in.labels(NAME, outcome.value).inc()

    async def _answer_callback(self, query_id: str) -> None:
        # Always answered, so her app stops the spinner even on an old or foreign keyboard.
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as error:
            log.info("callback query not answered: %s", error.message)

    async def _refuse_group(self, parsed: ParsedUpdate) -> None:
        chat_id = parsed.refuse_group
        assert chat_id is not None
        now = time.monotonic()
        if now - self._refused_groups.get(chat_id, -GROUP_COOLDOWN) < GROUP_COOLDOWN:
            return
        if len(self._refused_groups) > 10_000:
            self._refused_groups.clear()
        self._refused_groups[chat_id] = now
        language = normalise_language(parsed.language, self.default_language)
        try:
            await self.bot.send_message(chat_id, translate(language, GROUP_REFUSAL))
            await self.bot.leave_chat(chat_id)
        except TelegramError as error:
            log.info("group refusal not delivered: %s", error.message)

    # -- outbound ----------------------------------------------------------------------------

    async def send(self, address: str, message: RenderedMessage) -> SentMessage:
        if not self._initialized:
            await self.application.initialize()
            self._initialized = True
        return await self.sender.send(address, message)


def _dropped_duplicate() -> None:
    """A delivery this bot already journaled (a platform retry): counted and logged, no ids."""
    metrics.updates_in.labels(NAME, "duplicate").inc()
    log.info("a Telegram update already received was dropped as a duplicate")
