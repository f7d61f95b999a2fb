"""The web edge itself: health, metrics without personal data, and bad requests answered kindly."""

import httpx

from handlers.telegram.channel import SECRET_HEADER, WEBHOOK_PATH
from handlers.whatsapp.webhooks import INBOUND_PATH
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI, make_message_update
from tests.fakes.twilio_api import FakeTwilioAPI

HER = "whatsapp:+48600100200"


async def test_health_says_the_database_is_reachable(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        async with httpx.AsyncClient() as client:
            response = await client.get(edge.url + "/healthz")
        assert response.status_code == 200 and response.json()["database"] is True


async def test_metrics_count_updates_and_sends_by_channel_without_personal_data(database_url):
    async with (
        FakeBotAPI() as api,
        FakeTwilioAPI() as tw,
        running_edge(database_url, telegram=api, twilio=tw) as edge,
    ):
        await tw.deliver_webhook(edge.url + INBOUND_PATH, tw.make_inbound(HER, "/start"))
        await api.deliver_webhook(make_message_update(8123456789, "/start"))
        await edge.drain()
        async with httpx.AsyncClient() as client:
            text = (await client.get(edge.url + "/metrics")).text

        assert 'peerline_updates_in_total{channel="whatsapp",outcome="handled"}' in text
        assert 'peerline_updates_in_total{channel="telegram",outcome="handled"}' in text
        assert 'peerline_messages_out_total{channel="whatsapp",result="sent"}' in text
        assert 'peerline_messages_out_total{channel="telegram",result="sent"}' in text
        assert "peerline_outbox_queue_depth 0.0" in text
        assert "peerline_match_wait_seconds_bucket" in text
        assert "48600100200" not in text and "8123456789" not in text


async def test_oversized_unknown_and_wrong_method_requests_get_4xx_without_a_trace(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        headers = {SECRET_HEADER: api.webhook_secret, "Content-Type": "application/json"}
        async with httpx.AsyncClient() as client:
            declared = await client.post(edge.url + "/console/messages", content=b"x" * 1_200_000)

            async def stream():
                for _ in range(30):
                    yield b"x" * 65536

            streamed = await client.post(edge.url + WEBHOOK_PATH, content=stream(), headers=headers)
            unknown = await client.get(edge.url + "/wp-admin")
            wrong_method = await client.get(edge.url + WEBHOOK_PATH)
        assert declared.status_code == 413
        assert streamed.status_code == 413
        assert unknown.status_code == 404
        assert wrong_method.status_code == 405
        for response in (declared, streamed, unknown, wrong_method):
            assert "Traceback" not in response.text and len(response.text) < 200
