"""Property: any mutation of a real webhook body gets no 5xx, and either one handled event or a
4xx with no row written. Real Telegram and Twilio bodies (tests/fixtures) through the real edge.
"""

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from flows import metrics
from handlers.telegram.channel import SECRET_HEADER, WEBHOOK_PATH
from handlers.whatsapp.webhooks import INBOUND_PATH, STATUS_PATH
from models import OutboxMessage
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilioAPI, sign_twilio_request

FIXTURES = Path(__file__).parent / "fixtures"
TELEGRAM = [json.loads(p.read_text()) for p in sorted((FIXTURES / "telegram").glob("*.json"))]
ACCOUNT = "AC1a03647d811fab342c0ad608e382fab2"
TWILIO = [
    [(k, ACCOUNT if k == "AccountSid" else v) for k, v in parse_qsl(p.read_text())]
    for p in sorted((FIXTURES / "twilio").glob("*.form"))
]
FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same cases on every run; a failure is reproducible
)

odd_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec=None, categories=["Cs", "Cc"]), max_size=8),
    st.sampled_from(["\x00", "\ud800", "a" * 200, "SM" + "0" * 32, "whatsapp:+48600100200"]),
)
odd_value = st.one_of(
    odd_text,
    st.integers(min_value=-(2**80), max_value=2**80),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.recursive(st.just({}), lambda inner: st.dictionaries(st.just("a"), inner, max_size=1)),
)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


def replaced(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = replaced(copy[head], rest, new)
    return copy


@st.composite
def telegram_bodies(draw: st.DrawFn) -> bytes:
    update = draw(st.sampled_from(TELEGRAM))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths(update)[1:] or [()]))
        update = replaced(update, path, draw(odd_value))
    if draw(st.booleans()):  # a fresh update id, so duplicates do not hide the mutation
        update = {**update, "update_id": draw(st.integers(1, 2**40))}
    return json.dumps(update).encode()


@st.composite
def twilio_forms(draw: st.DrawFn) -> list[tuple[str, str]]:
    pairs = list(draw(st.sampled_from(TWILIO)))
    for _ in range(draw(st.integers(1, 3))):
        if pairs and draw(st.booleans()):
            index = draw(st.integers(0, len(pairs) - 1))
            pairs[index] = (pairs[index][0], draw(odd_text))
        else:
            name = draw(st.sampled_from(["MessageSid", "From", "Body", "NumMedia", "MediaUrl0"]))
            pairs.append((name, draw(odd_text)))
    return pairs


async def snapshot(edge) -> tuple[dict[str, int], int]:
    async with edge.service.session_factory() as session:
        query = select(func.count()).where(OutboxMessage.text_id == "error.generic")
        apologies = (await session.execute(query)).scalar_one()
    failed = sum(
        metrics.registry.get_sample_value(
            "peerline_updates_in_total", {"channel": channel, "outcome": "failed"}
        )
        or 0
        for channel in ("telegram", "whatsapp")
    )
    return await edge.counts(), int(apologies + failed)


async def check(edge, response: httpx.Response, before) -> None:
    assert response.status_code < 500, response.text
    await edge.drain()
    counts, broken = await snapshot(edge)
    assert broken == before[1], "an event failed inside the transaction"
    if response.status_code >= 400:
        assert counts == before[0], f"a {response.status_code} wrote rows"
    else:
        assert counts["processed"] - before[0]["processed"] <= 1


@pytest.fixture
async def edge(database_url):
    async with (
        FakeBotAPI() as api,
        FakeTwilioAPI(account_sid=ACCOUNT, auth_token="6789") as tw,
        running_edge(database_url, telegram=api, twilio=tw) as edge,
    ):
        edge.api, edge.tw = api, tw
        async with httpx.AsyncClient() as client:
            edge.client = client
            yield edge


@FUZZ
@given(body=telegram_bodies())
async def test_mutated_telegram_updates_never_fail_inside(edge, body):
    before = await snapshot(edge)
    headers = {SECRET_HEADER: edge.api.webhook_secret, "Content-Type": "application/json"}
    response = await edge.client.post(edge.url + WEBHOOK_PATH, content=body, headers=headers)
    await check(edge, response, before)


@FUZZ
@given(pairs=twilio_forms(), status=st.booleans())
async def test_mutated_twilio_forms_never_fail_inside(edge, pairs, status):
    before = await snapshot(edge)
    url = edge.url + (STATUS_PATH if status else INBOUND_PATH)
    try:
        signature = sign_twilio_request(edge.tw.auth_token, url, pairs)
    except UnicodeEncodeError:  # Twilio could not have signed a lone surrogate either
        signature = "not-signable"
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
    body = urlencode(pairs, encoding="utf-8", errors="surrogatepass")
    response = await edge.client.post(url, content=body, headers=headers)
    await check(edge, response, before)
