"""The web edge: channel webhooks, health, metrics, and the local console's endpoints."""

import contextlib
import uuid
from collections.abc import AsyncIterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import metrics
from bot.app import Peerline
from flows.events import EventKind, InboundEvent
from handlers import console

MAX_CONSOLE_TEXT = 4096


def parse_console_line(name: str, text: str, message_id: str | None = None) -> InboundEvent:
    """What she typed in the terminal, as an event; "/cmd args" is a command."""
    text = text.strip()[:MAX_CONSOLE_TEXT]
    message_id = message_id or uuid.uuid4().hex
    if text.startswith("/") and len(text) > 1:
        command, _, args = text[1:].partition(" ")
        return InboundEvent(
            console.NAME, name, EventKind.COMMAND, message_id, text, command.lower(), args.strip()
        )
    return InboundEvent(console.NAME, name, EventKind.TEXT, message_id, text)


def create_web_app(service: Peerline, *, manage_service: bool = True) -> Starlette:
    async def healthz(_: Request) -> Response:
        health = await service.health()
        return JSONResponse(health, status_code=200 if health["ok"] else 503)

    async def metrics_endpoint(_: Request) -> Response:
        metrics.queue_depth.set(await service.queue_depth())
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def console_post(request: Request) -> Response:
        try:
            body = await request.json()
            name, text = str(body["as"])[:32], str(body.get("text", ""))
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "send JSON with 'as' and 'text'"}, status_code=400)
        if body.get("if_new"):
            async with service.session_factory() as session:
                if await service.router.find_participant(session, console.NAME, name):
                    return JSONResponse({"outcome": "known"})
        event = parse_console_line(name, text, body.get("id"))
        outcome = await service.router.handle(event)
        metrics.updates_in.labels(console.NAME, outcome.value).inc()
        return JSONResponse({"outcome": outcome.value})

    async def console_poll(request: Request) -> Response:
        name = request.query_params.get("as", "")[:32]
        if not name or service.console is None:
            return JSONResponse({"error": "say who you are: ?as=NAME"}, status_code=400)
        wait = min(float(request.query_params.get("wait", "20") or 20), 30.0)
        messages = await service.console.wait_for_messages(name, wait)
        return JSONResponse({"messages": messages})

    routes = [
        Route("/healthz", healthz),
        Route("/metrics", metrics_endpoint),
    ]
    if service.console is not None:
        routes += [
            Route("/console/messages", console_post, methods=["POST"]),
            Route("/console/poll", console_poll),
        ]
    for channel in service.channels.values():
        routes += list(getattr(channel, "routes", lambda: [])())

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if manage_service:
            await service.start()
        try:
            yield
        finally:
            if manage_service:
                await service.stop()

    return Starlette(routes=routes, lifespan=lifespan)
