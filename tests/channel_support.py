"""The real web edge on loopback with the real channels, against the fake Bot API and Twilio."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from starlette.types import Receive, Scope, Send

from bot.app import Peerline
from bot.channels import attach_channels
from bot.web import create_web_app
from models import OutboxMessage, Participant, ProcessedInbound
from tests.fakes import LocalServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.support import drain, running_service

WHATSAPP_FROM = "+14155238886"


class _LateApp:
    """Lets the server bind its port before the app (which needs PUBLIC_URL) exists."""

    app: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@dataclass
class Edge:
    service: Peerline
    url: str
    telegram: Any = None
    whatsapp: Any = None

    async def drain(self) -> None:
        """Let every received update reach the router, then send everything queued."""
        await self.service.inbound.idle()
        await drain(self.service.sender, self.service.clock)

    async def counts(self) -> dict[str, int]:
        async with self.service.session_factory() as session:
            result = {}
            for name, model in (
                ("participants", Participant),
                ("outbox", OutboxMessage),
                ("processed", ProcessedInbound),
            ):
                query = select(func.count()).select_from(model)
                result[name] = (await session.execute(query)).scalar_one()
            return result

    async def participant(self, channel: str, address: str) -> Participant | None:
        async with self.service.session_factory() as session:
            return await self.service.router.find_participant(session, channel, address)


def telegram_settings(api: FakeBotAPI) -> dict[str, Any]:
    return {
        "telegram_bot_token": api.token,
        "telegram_api_base_url": api.base_url.removesuffix("/bot"),
    }


def twilio_settings(tw: FakeTwilioAPI) -> dict[str, Any]:
    return {
        "twilio_account_sid": tw.account_sid,
        "twilio_auth_token": tw.auth_token,
        "twilio_whatsapp_from": WHATSAPP_FROM,
        "twilio_api_base_url": tw.base_url,
    }


@asynccontextmanager
async def running_edge(
    database_url: str,
    *,
    telegram: FakeBotAPI | None = None,
    twilio: FakeTwilioAPI | None = None,
    webhook: bool = True,
    clock: Any = None,
    **overrides: Any,
) -> AsyncIterator[Edge]:
    """A migrated service with its channels behind the real web edge on 127.0.0.1.

    The outbox sender is not started: tests call `edge.drain()` so that time stays virtual.
    """
    late = _LateApp()
    server = LocalServer(late)
    await server.start()
    settings: dict[str, Any] = {}
    if telegram is not None:
        settings.update(telegram_settings(telegram))
    if twilio is not None:
        settings.update(twilio_settings(twilio))
    if webhook or twilio is not None:
        settings["public_url"] = server.url
    settings.update(overrides)
    try:
        async with running_service(database_url, clock=clock, **settings) as service:
            attach_channels(service)
            late.app = create_web_app(service, manage_service=False)
            await service.start(sender=False, scheduler=False)
            yield Edge(
                service,
                server.url,
                telegram=service.channels.get("telegram"),
                whatsapp=service.channels.get("whatsapp"),
            )
    finally:
        await server.stop()
