"""Liveness apart from readiness, and the worker's own port with health and metrics."""

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import httpx

from bot.app import Peerline
from bot.web import create_web_app
from tests.support import make_settings

PEERLINE = str(Path(sys.executable).parent / "peerline")


async def test_a_database_outage_is_not_ready_yet_still_live(tmp_path):
    service = Peerline(make_settings(f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/x.db"))
    app = create_web_app(service, manage_service=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
        live, ready, health = [await client.get(p) for p in ("/livez", "/readyz", "/healthz")]
    await service.engine.dispose()
    assert live.status_code == 200
    assert ready.status_code == health.status_code == 503
    assert ready.json()["database"] is False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_the_worker_serves_health_and_metrics_on_its_own_port(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "TWILIO"))}
    env.pop("PUBLIC_URL", None)
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/w.db", SECRET_KEY="k",
        WORKER_PORT=str(port), PYTHONUNBUFFERED="1",
    )  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        PEERLINE, "worker", "--migrate", env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        while b"health and metrics" not in line:
            line = await asyncio.wait_for(process.stdout.readline(), 60)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            live = await client.get("/livez")
            ready = await client.get("/readyz")
            text = (await client.get("/metrics")).text
            webhook = await client.post("/telegram/webhook")
        assert live.status_code == ready.status_code == 200
        assert ready.json()["sender"] is True
        assert "process_cpu_seconds_total" in text and "python_info" in text
        assert 'peerline_build_info{version="' in text
        assert "peerline_job_failures_total" in text or "peerline_outbox_queue_depth" in text
        assert webhook.status_code == 404  # the worker takes no webhooks
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    assert process.returncode == 0  # stopped by its own SIGTERM handling, not killed
