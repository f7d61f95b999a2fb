"""The reliability review's edge findings, each reproduced: a 4xx, never a 5xx, nothing written."""

import json
from urllib.parse import urlencode

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Route

from handlers.telegram.channel import SECRET_HEADER, WEBHOOK_PATH
from handlers.whatsapp.media import MediaUnavailable, fetch_twilio_media
from handlers.whatsapp.webhooks import INBOUND_PATH, STATUS_PATH
from tests.channel_support import running_edge
from tests.fakes import LocalServer
from tests.fakes.telegram_api import FakeBotAPI, make_message_update
from tests.fakes.twilio_api import FakeTwilioAPI, sign_twilio_request

HER = "whatsapp:+48600100200"
FORM = "application/x-www-form-urlencoded"


async def post_update(edge, update: dict | bytes) -> httpx.Response:
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    headers = {SECRET_HEADER: edge.api.webhook_secret, "Content-Type": "application/json"}
    async with httpx.AsyncClient() as client:
        return await client.post(edge.url + WEBHOOK_PATH, content=body, headers=headers)


async def post_form(edge, path: str, pairs: list[tuple[str, str]], signed_as=None) -> int:
    url = edge.url + path
    signature = sign_twilio_request(edge.tw.auth_token, url, signed_as or pairs)
    headers = {"X-Twilio-Signature": signature, "Content-Type": FORM}
    async with httpx.AsyncClient() as client:
        response = await client.post(url, content=urlencode(pairs), headers=headers)
    assert "Traceback" not in response.text
    return response.status_code


@pytest.fixture
async def edge(database_url):
    async with (
        FakeBotAPI() as api,
        FakeTwilioAPI() as tw,
        running_edge(database_url, telegram=api, twilio=tw) as edge,
    ):
        edge.api, edge.tw = api, tw
        yield edge


async def test_odd_telegram_bodies_are_refused_before_anything_is_written(edge):
    plain = json.dumps(make_message_update(8100000000, "hi"))
    deep = (plain[:-1] + ', "deep": ' + '{"a": ' * 1000 + "{}" + "}" * 1000 + "}").encode()
    nul = make_message_update(8100000001, "her words\x00 here")
    surrogate = json.dumps(make_message_update(8100000002, "x")).replace('"x"', '"\\ud800"')
    long_id = make_message_update(8100000003, "hi")
    long_id["message"]["message_id"] = 10**40
    huge_update = make_message_update(8100000004, "hi")
    huge_update["update_id"] = 10**90
    long_command = make_message_update(8100000005, "/" + "a" * 40)
    before = await edge.counts()
    answers = [
        (await post_update(edge, body)).status_code
        for body in (
            deep,
            nul,
            surrogate.encode(),
            long_id,
            huge_update,
        )
    ]
    await edge.drain()
    assert answers == [400] * 5
    assert await edge.counts() == before
    assert (await post_update(edge, long_command)).status_code in (200, 400)


async def test_a_nul_in_a_signed_status_or_inbound_form_is_a_400(edge):
    before = await edge.counts()
    status = [("MessageSid", "SM" + "0" * 31 + "\x00"), ("MessageStatus", "delivered")]
    inbound = list(edge.tw.make_inbound(HER, "hello\x00there").items())
    assert await post_form(edge, STATUS_PATH, status) == 400
    assert await post_form(edge, INBOUND_PATH, inbound) == 400
    await edge.drain()
    assert await edge.counts() == before


async def test_a_re_split_signed_form_is_not_a_new_message(edge):
    """Twilio signs the fields run together: MessageSid and MessageType can be read as one."""
    form = edge.tw.make_inbound(HER, "hello")
    original = list(form.items())
    assert await post_form(edge, INBOUND_PATH, original) == 200
    await edge.drain()
    before = await edge.counts()
    re_split = [(k, v) for k, v in original if k != "MessageType"]
    re_split = [
        (k, v + "MessageType" + form["MessageType"] if k == "MessageSid" else v)
        for k, v in re_split
    ]
    url = edge.url + INBOUND_PATH
    assert sign_twilio_request(edge.tw.auth_token, url, re_split) == sign_twilio_request(
        edge.tw.auth_token, url, original
    )
    assert await post_form(edge, INBOUND_PATH, re_split) == 400
    await edge.drain()
    assert await edge.counts() == before


async def test_forms_of_another_shape_or_account_are_refused(edge):
    before = await edge.counts()
    good = edge.tw.make_inbound(HER, "hello")
    variants = [
        {**good, "AccountSid": "AC" + "1" * 32},  # someone else's account
        {**good, "From": "+48600100200"},  # an SMS, not WhatsApp
        {**good, "MessageSid": "SM" + "a" * 33, "SmsMessageSid": "SM" + "a" * 33},
        {**good, "From": "whatsapp:+48" + "6" * 40},
    ]
    for form in variants:
        assert await post_form(edge, INBOUND_PATH, list(form.items())) == 400
    await edge.drain()
    assert await edge.counts() == before


async def test_a_non_ascii_media_link_is_a_404_not_a_500(edge):
    async with httpx.AsyncClient() as client:
        response = await client.get(edge.url + "/media/telegram/x.%C3%A9")
    assert response.status_code == 404


async def test_a_slash_redirect_uses_public_url_never_the_host_header(edge):
    async with httpx.AsyncClient() as client:
        response = await client.get(edge.url + "/healthz/", headers={"Host": "evil.example"})
    assert response.status_code == 307
    assert response.headers["location"] == edge.url + "/healthz"


async def test_the_console_is_closed_on_a_public_edge(edge):
    async with httpx.AsyncClient() as client:
        posted = await client.post(edge.url + "/console/messages", json={"as": "x", "text": "hi"})
        polled = await client.get(edge.url + "/console/poll", params={"as": "x", "wait": 0})
    assert (posted.status_code, polled.status_code) == (404, 404)


async def test_media_credentials_go_only_to_our_accounts_media_and_follow_no_foreign_redirect():
    async def elsewhere(_):
        return RedirectResponse("http://127.0.0.1:9/somewhere", status_code=307)

    other = LocalServer(Starlette(routes=[Route("/{path:path}", elsewhere)]))
    await other.start()
    try:
        async with FakeTwilioAPI() as tw:

            async def fetch(url: str, base: str | None = tw.base_url):
                return await fetch_twilio_media(
                    url, account_sid=tw.account_sid, auth_token=tw.auth_token,
                    api_base_url=base, max_bytes=1000,
                )  # fmt: skip

            good = tw.add_media(b"OggS", "audio/ogg")
            assert (await fetch(good))[0] == b"OggS"
            account_path = good.split("/Messages/")[0]
            for url in (
                account_path + "/Messages.json",  # not a Media resource
                good.replace(tw.account_sid, "AC" + "2" * 32),  # another account's media
                good + "?x=1",
            ):
                with pytest.raises(MediaUnavailable):
                    await fetch(url)
            path = good.removeprefix(tw.base_url)
            with pytest.raises(MediaUnavailable, match="redirected"):
                await fetch(other.url + path, other.url)
    finally:
        await other.stop()
