"""The web edge: channel webhooks, health, metrics, and the local console's endpoints."""

import asyncio
import contextlib
import math
import uuid
from collections.abc import AsyncIterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bot import telemetry  # noqa: F401 (process, build and job metrics on /metrics)
from bot.app import Peerline
from flows import metrics
from flows.events import EventKind, InboundEvent
from handlers import console
from handlers.http import DEFAULT_MAX_BODY
from handlers.refusals import unusable_event, unusable_json

MAX_CONSOLE_TEXT = 4096


class BodyLimit:
    """Refuses any request whose declared length is over the limit, before a route sees it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope.get("headers", []):
                if name == b"content-length":
                    if not value.isdigit():
                        response = PlainTextResponse("bad Content-Length", status_code=400)
                    elif int(value) > self.limit:
                        response = PlainTextResponse("request body too large", status_code=413)
                    else:
                        break
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _http_error(public_url: str | None, paths: set[str]) -> Any:
    """Client mistakes get a short plain answer, never a trace; "/healthz/" is sent to
    "/healthz" on PUBLIC_URL (or a relative path), never to whatever the Host header says."""

    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        path = request.url.path
        if exc.status_code == 404 and path.endswith("/") and path.rstrip("/") in paths:
            location = (public_url or "").rstrip("/") + path.rstrip("/")
            return RedirectResponse(location, status_code=307)
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)

    return handle


async def _server_error(_: Request, exc: Exception) -> Response:
    return PlainTextResponse("internal error", status_code=500)


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


def _short_id(value: object) -> str | None:
    return str(value)[:64] if value else None


def create_web_app(
    service: Peerline,
    *,
    manage_service: bool = True,
    open_console: bool = False,
    health_only: bool = False,
) -> Starlette:
    """The edge; the console's endpoints only when asked for (`peerline run --console`).

    `health_only` is the worker's own port: health and metrics, no webhooks.
    """

    async def readyz(_: Request) -> Response:
        health = await service.health()
        return JSONResponse(health, status_code=200 if health["ok"] else 503)

    async def livez(_: Request) -> Response:
        """The process answers: a database outage is no reason to restart it."""
        return JSONResponse({"ok": True})

    async def metrics_endpoint(_: Request) -> Response:
        metrics.queue_depth.set(await service.queue_depth())
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def console_post(request: Request) -> Response:
        try:
            body = await request.json()
            name, text = str(body["as"])[:32], str(body.get("text", ""))
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return JSONResponse({"error": "send JSON with 'as' and 'text'"}, status_code=400)
        refusal = unusable_json(body)
        if refusal is None:
            event = parse_console_line(name, text, _short_id(body.get("id")))
            refusal = unusable_event(event)
        if refusal is not None:
            return JSONResponse({"error": refusal}, status_code=400)
        if body.get("if_new"):
            async with service.session_factory() as session:
                if await service.router.find_participant(session, console.NAME, name):
                    return JSONResponse({"outcome": "known"})
        outcome = await service.router.handle(event)
        metrics.updates_in.labels(console.NAME, outcome.value).inc()
        return JSONResponse({"outcome": outcome.value})

    async def console_poll(request: Request) -> Response:
        name = request.query_params.get("as", "")[:32]
        if not name or service.console is None:
            return JSONResponse({"error": "say who you are: ?as=NAME"}, status_code=400)
        try:
            wait = float(request.query_params.get("wait") or 20)
            if not math.isfinite(wait):
                raise ValueError("not a finite number")
            wait = min(max(wait, 0.0), 30.0)
        except ValueError:
            return JSONResponse({"error": "wait must be a number of seconds"}, status_code=400)
        # Wait in short slices so a terminal that has gone away frees its request at once.
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            messages = await service.console.wait_for_messages(name, min(1.0, max(remaining, 0)))
            if messages or remaining <= 1.0 or service.console.closed:
                return JSONResponse({"messages": messages})
            if await request.is_disconnected():
                return JSONResponse({"messages": messages})

    routes = [
        Route("/healthz", readyz),
        Route("/readyz", readyz),
        Route("/livez", livez),
        Route("/metrics", metrics_endpoint),
    ]
    if open_console and service.console is not None:
        routes += [
            Route("/console/messages", console_post, methods=["POST"]),
            Route("/console/poll", console_poll),
        ]
    for channel in () if health_only else service.channels.values():
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

    limit = getattr(service.settings, "max_body_bytes", DEFAULT_MAX_BODY)
    paths = {route.path for route in routes if isinstance(route, Route)}
    handle_http_error = _http_error(service.settings.public_url, paths)
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: handle_http_error, Exception: _server_error},
    )
    app.router.redirect_slashes = False
    app.add_middleware(BodyLimit, limit=limit)
    return app
