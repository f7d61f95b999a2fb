"""What /metrics says about sending and about the database: a send-latency histogram filled by
every send, and a database error counter that a refused statement really moves."""

import json
import sqlite3

import httpx

from flows import metrics
from handlers.telegram.channel import SECRET_HEADER, WEBHOOK_PATH
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI, make_message_update


def sample(name: str, labels: dict[str, str]) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_every_send_is_timed_in_the_send_latency_histogram(database_url):
    sends = ("peerline_send_seconds_count", {"channel": "telegram"})
    sent = ("peerline_messages_out_total", {"channel": "telegram", "result": "sent"})
    sends_before, sent_before = sample(*sends), sample(*sent)
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        await api.deliver_webhook(make_message_update(8123450001, "/start"))
        await edge.drain()
        async with httpx.AsyncClient() as client:
            text = (await client.get(edge.url + "/metrics")).text
    timed, delivered = sample(*sends) - sends_before, sample(*sent) - sent_before
    assert delivered >= 1 and timed == delivered  # each accepted send was timed, once
    assert 'peerline_send_seconds_bucket{channel="telegram",le="0.1"}' in text
    assert "8123450001" not in text


async def test_a_statement_the_database_refuses_is_counted_and_answered_with_a_503(tmp_path):
    path = tmp_path / "refusing.db"
    errors = ("peerline_database_errors_total", {"kind": "OperationalError"})
    async with (
        FakeBotAPI() as api,
        running_edge(f"sqlite+aiosqlite:///{path}", telegram=api) as edge,
    ):
        headers = {SECRET_HEADER: api.webhook_secret, "Content-Type": "application/json"}
        update = json.dumps(make_message_update(8123450002, "/start", update_id=77))
        before = sample(*errors)
        # The journal's table goes away under the running service (as a broken disk would):
        # the webhook's INSERT is refused.
        with sqlite3.connect(path) as outside:
            outside.execute("ALTER TABLE processed_inbound RENAME TO processed_inbound_away")
        async with httpx.AsyncClient() as client:
            refused = await client.post(edge.url + WEBHOOK_PATH, content=update, headers=headers)
            text = (await client.get(edge.url + "/metrics")).text
            with sqlite3.connect(path) as outside:
                outside.execute("ALTER TABLE processed_inbound_away RENAME TO processed_inbound")
            retried = await client.post(edge.url + WEBHOOK_PATH, content=update, headers=headers)
        await edge.drain()
    assert refused.status_code == 503  # Telegram sends it again ...
    assert retried.status_code == 200  # ... and then it is taken
    assert sample(*errors) > before
    counted = [
        line
        for line in text.splitlines()
        if line.startswith('peerline_database_errors_total{kind="OperationalError"}')
    ]
    assert counted and float(counted[0].split()[-1]) >= before + 1
