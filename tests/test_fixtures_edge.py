"""Every collected real webhook body gets a sensible answer from the web edge: never a 5xx.

The bodies (tests/fixtures, provenance in its README) go through the real server on loopback:
Telegram updates with the right secret, Twilio forms signed as Twilio signs them.
"""

import json
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from flows import metrics
from handlers.telegram.channel import SECRET_HEADER, WEBHOOK_PATH
from handlers.whatsapp.webhooks import INBOUND_PATH, STATUS_PATH
from models import OutboxMessage
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilioAPI, sign_twilio_request

FIXTURES = Path(__file__).parent / "fixtures"
TELEGRAM = sorted((FIXTURES / "telegram").glob("*.json"))
TWILIO = sorted((FIXTURES / "twilio").glob("*.form"))
module_loop = pytest.mark.asyncio(loop_scope="module")
# The account most of the WhatsApp fixtures came from; courier's "acctid" is read as it too.
ACCOUNT = "AC1a03647d811fab342c0ad608e382fab2"
# WhatsApp messages with Twilio's own shapes; SMS bodies, a prefix-less From, numeric sids and
# forms without MessageSid/From are refused with a 400 before anything is written.
USABLE_INBOUND = {f"{n:02d}" for n in range(6, 14)}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def edge(tmp_path_factory):
    database = tmp_path_factory.mktemp("edge") / "edge.db"
    async with (
        FakeBotAPI() as api,
        FakeTwilioAPI(account_sid=ACCOUNT, auth_token="6789") as tw,
        running_edge(f"sqlite+aiosqlite:///{database}", telegram=api, twilio=tw) as edge,
    ):
        edge.api, edge.tw = api, tw
        edge.failed_before = failed_events()
        yield edge


def failed_events() -> int:
    return int(
        sum(
            metrics.registry.get_sample_value(
                "peerline_updates_in_total", {"channel": channel, "outcome": "failed"}
            )
            or 0
            for channel in ("telegram", "whatsapp")
        )
    )


async def apologies(edge) -> int:
    """Events that broke a flow (the router rolled back), and rows apologising for one."""
    failed = failed_events() - edge.failed_before
    async with edge.service.session_factory() as session:
        query = select(func.count()).where(OutboxMessage.text_id == "error.generic")
        return int(failed) + (await session.execute(query)).scalar_one()


@module_loop
@pytest.mark.parametrize("path", TELEGRAM, ids=lambda p: p.stem)
async def test_every_telegram_body_is_handled_or_politely_ignored(edge, path):
    async with httpx.AsyncClient() as client:
        response = await client.post(
            edge.url + WEBHOOK_PATH,
            content=path.read_bytes(),
            headers={SECRET_HEADER: edge.api.webhook_secret, "Content-Type": "application/json"},
        )
    await edge.drain()
    assert response.status_code == 200
    assert await apologies(edge) == 0


def is_status(fields: dict[str, str]) -> bool:
    return "MessageStatus" in fields or fields.get("SmsStatus", "received") != "received"


@module_loop
@pytest.mark.parametrize("path", TWILIO, ids=lambda p: p.stem)
async def test_every_twilio_body_is_handled_or_politely_refused(edge, path):
    pairs = [
        (k, ACCOUNT if (k, v) == ("AccountSid", "acctid") else v)
        for k, v in parse_qsl(path.read_text(), keep_blank_values=True)
    ]
    body = urlencode(pairs).encode() if pairs else path.read_bytes()
    fields = dict(pairs)
    routes = [STATUS_PATH] if is_status(fields) else [INBOUND_PATH, STATUS_PATH]
    async with httpx.AsyncClient() as client:
        for route in routes:
            url = edge.url + route
            response = await client.post(
                url,
                content=body,
                headers={
                    "X-Twilio-Signature": sign_twilio_request(edge.tw.auth_token, url, pairs),
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
            await edge.drain()
            assert response.status_code < 500
            if route == INBOUND_PATH:
                usable = path.stem[:2] in USABLE_INBOUND
                assert response.status_code == (200 if usable else 400)
            else:
                odd_sid = fields.get("MessageSid") not in (None, "") and path.stem[:2] == "25"
                assert response.status_code == (400 if odd_sid else 204)
    assert await apologies(edge) == 0


@module_loop
async def test_the_invalid_json_body_from_the_collection_notes_is_a_400(edge):
    async with httpx.AsyncClient() as client:
        response = await client.post(
            edge.url + WEBHOOK_PATH,
            content=b"foo",
            headers={SECRET_HEADER: edge.api.webhook_secret, "Content-Type": "application/json"},
        )
    assert response.status_code == 400


def test_there_are_all_the_collected_bodies():
    assert (len(TELEGRAM), len(TWILIO)) == (44, 25)
    assert all(isinstance(json.loads(p.read_text()), dict) for p in TELEGRAM)
