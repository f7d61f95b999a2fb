"""The HTTP fakes work with the real python-telegram-bot and twilio clients, over real HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from handlers.whatsapp.twilio_client import make_twilio_client
from tests.fakes import LocalServer
from tests.fakes.telegram_api import (
    FakeBotAPI,
    UploadedFile,
    make_callback_update,
    make_message_update,
    make_my_chat_member_update,
)
from tests.fakes.twilio_api import FakeTwilioAPI, sign_twilio_request

TOKEN = "123:ABC"
ACCOUNT_SID = "AC" + "1f" * 16
AUTH_TOKEN = "twilio-auth-token"


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token=TOKEN, long_poll_cap=0.3) as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as real_bot:
        yield real_bot


@pytest.fixture
async def tw() -> AsyncIterator[FakeTwilioAPI]:
    async with FakeTwilioAPI(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
async def twilio(tw: FakeTwilioAPI) -> AsyncIterator[Client]:
    client = make_twilio_client(ACCOUNT_SID, AUTH_TOKEN, api_base_url=tw.base_url)
    yield client
    await client.http_client.close()


# -- Telegram -----------------------------------------------------------------------------------


async def test_send_message_records_decoded_params(api: FakeBotAPI, bot: Bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])

    message = await bot.send_message(42, "hello", reply_markup=markup)
    await bot.send_message(42, "123")  # a numeric-looking text must stay a string

    assert api.calls_to("getMe")  # Bot.initialize
    params = api.calls_to("sendMessage")[0].params
    assert params["chat_id"] == 42
    assert params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]
    }
    assert message.reply_markup == markup and message.chat.id == 42
    assert api.sent_texts(42) == ["hello", "123"] and api.sent_texts(7) == []


SCRIPTED_FAILURES = {
    "flood": ({"retry_after": 3}, RetryAfter, "3"),
    "blocked": (
        {"error_code": 403, "description": "Forbidden: bot was blocked by the user"},
        Forbidden,
        "blocked",
    ),
    "no_chat": (
        {"error_code": 400, "description": "Bad Request: chat not found"},
        BadRequest,
        "(?i)chat not found",
    ),
    "server": (
        {"error_code": 500, "description": "Internal Server Error"},
        NetworkError,
        "Internal",
    ),
}


@pytest.mark.parametrize(
    ("script", "error", "text"), SCRIPTED_FAILURES.values(), ids=SCRIPTED_FAILURES.keys()
)
async def test_scripted_failures_raise_ptb_errors(
    api: FakeBotAPI,
    bot: Bot,
    monkeypatch: pytest.MonkeyPatch,
    script: dict[str, object],
    error: type[Exception],
    text: str,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as timedelta, no warning
    api.add_result_for("sendMessage", ok=False, chat_id=2, **script)  # type: ignore[arg-type]

    await bot.send_message(1, "not the scripted chat")
    with pytest.raises(error, match=text) as raised:
        await bot.send_message(2, "hi")
    await bot.send_message(2, "consumed: next call succeeds")

    assert type(raised.value) is error  # not just a subclass: BadRequest is a NetworkError
    if isinstance(raised.value, RetryAfter):
        assert raised.value.retry_after == timedelta(seconds=3)
    assert [c.ok for c in api.calls_to("sendMessage")] == [True, False, True]
    assert api.sent_texts(2) == ["consumed: next call succeeds"]


async def test_result_override_and_unknown_method(api: FakeBotAPI, bot: Bot) -> None:
    api.add_result_for(
        "getWebhookInfo",
        result={"url": "https://x", "has_custom_certificate": False, "pending_update_count": 5},
    )

    info = await bot.get_webhook_info()

    assert info.pending_update_count == 5
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")


async def test_get_file_and_uploaded_media_download(api: FakeBotAPI, bot: Bot) -> None:
    api.add_file("voice-1", b"OggS-voice", "audio/ogg")

    downloaded = await (await bot.get_file("voice-1")).download_as_bytearray()
    sent = await bot.send_voice(5, voice=b"OggS-uploaded", caption="a voice")
    again = await (await bot.get_file(sent.voice.file_id)).download_as_bytearray()

    assert downloaded == b"OggS-voice" and again == b"OggS-uploaded"
    uploaded = api.calls_to("sendVoice")[0].params["voice"]
    assert isinstance(uploaded, UploadedFile) and uploaded.data == b"OggS-uploaded"
    assert sent.caption == "a voice"
    with pytest.raises(BadRequest, match="(?i)invalid file_id"):
        await bot.get_file("unknown")


async def test_get_updates_long_poll_and_offset(api: FakeBotAPI, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=30) == ()  # capped at long_poll_cap
    assert time.monotonic() - started < 20  # not the 30 s asked for

    asyncio.get_running_loop().call_later(0.05, api.push_update, make_message_update(9, "hi"))
    (update,) = await bot.get_updates(timeout=30)  # returns as soon as the update arrives

    assert update.message.text == "hi" and update.effective_user.language_code == "en"
    assert await bot.get_updates(offset=update.update_id + 1) == ()


async def test_application_polling_echoes(api: FakeBotAPI) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text("welcome")

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer()

    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0)
        api.push_update(make_message_update(7, "/start"))
        api.push_update(make_message_update(7, "ping"))
        api.push_update(make_callback_update(7, "yes", message_id=1))
        api.push_update(make_my_chat_member_update(7))
        await api.wait_for_calls("sendMessage", count=2)
        await api.wait_for_calls("answerCallbackQuery")
        await app.updater.stop()
        await app.stop()

    assert api.sent_texts(7) == ["welcome", "echo: ping"]
    assert api.calls_to("sendMessage")[1].params["chat_id"] == 7
    assert api.calls_to("forwardMessage") == []


async def test_webhook_delivery_with_secret(api: FakeBotAPI, bot: Bot) -> None:
    received: list[tuple[str | None, Update]] = []

    async def receiver(request: Request) -> Response:
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        received.append((secret, Update.de_json(await request.json(), bot)))
        return Response(status_code=200)

    server = LocalServer(Starlette(routes=[Route("/tg", receiver, methods=["POST"])]))
    await server.start()
    try:
        await bot.set_webhook(f"{server.url}/tg", secret_token="s3cr3t")
        status = await api.deliver_webhook(make_message_update(3, "via webhook"))
        with pytest.raises(Conflict):
            await bot.get_updates()
    finally:
        await server.stop()

    assert status == 200
    assert (api.webhook_url, api.webhook_secret) == (f"{server.url}/tg", "s3cr3t")
    ((secret, update),) = received
    assert secret == "s3cr3t" and update.message.text == "via webhook" and update.update_id


# -- Twilio -------------------------------------------------------------------------------------


async def test_twilio_send_is_recorded(tw: FakeTwilioAPI, twilio: Client) -> None:
    message = await twilio.messages.create_async(
        to="whatsapp:+48600100200", from_="whatsapp:+14155238886", body="hi"
    )
    with_media = await twilio.messages.create_async(
        to="whatsapp:+48600100200",
        from_="whatsapp:+14155238886",
        media_url=["https://example.org/a.jpg", "https://example.org/b.jpg"],
    )

    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued" and isinstance(message.date_created, datetime)
    assert tw.messages[0] == {
        "To": "whatsapp:+48600100200",
        "From": "whatsapp:+14155238886",
        "Body": "hi",
    }
    assert tw.messages[1]["MediaUrl"] == ["https://example.org/a.jpg", "https://example.org/b.jpg"]
    assert with_media.num_media == "2"
    assert tw.bodies("whatsapp:+48600100200") == ["hi", ""]


async def test_twilio_scripted_errors(tw: FakeTwilioAPI, twilio: Client) -> None:
    tw.add_error(status=400, code=63016, to="whatsapp:+48600000002")

    await twilio.messages.create_async(to="whatsapp:+48600000001", from_="whatsapp:+1", body="a")
    tw.add_error(status=429, retry_after=7)
    with pytest.raises(TwilioRestException) as outside_window:
        await twilio.messages.create_async(
            to="whatsapp:+48600000002", from_="whatsapp:+1", body="b"
        )
    with pytest.raises(TwilioRestException) as too_many:
        await twilio.messages.create_async(to="whatsapp:+1", from_="whatsapp:+1", body="c")

    assert (outside_window.value.status, outside_window.value.code) == (400, 63016)
    assert "outside the allowed window" in outside_window.value.msg
    assert (too_many.value.status, too_many.value.code) == (429, 20429)
    assert len(tw.messages) == 1 and len(tw.attempts) == 3


async def test_twilio_retry_after_header(tw: FakeTwilioAPI) -> None:
    # TwilioRestException does not carry response headers, so check the wire directly
    tw.add_error(status=429, retry_after=7)
    async with httpx.AsyncClient(auth=(ACCOUNT_SID, AUTH_TOKEN)) as http:
        response = await http.post(
            f"{tw.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
            data={"To": "whatsapp:+1", "From": "whatsapp:+2", "Body": "x"},
        )
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert response.json()["more_info"] == "https://www.twilio.com/docs/errors/20429"


async def test_twilio_wrong_credentials(tw: FakeTwilioAPI) -> None:
    client = make_twilio_client(ACCOUNT_SID, "wrong", api_base_url=tw.base_url)
    try:
        with pytest.raises(TwilioRestException) as raised:
            await client.messages.create_async(to="whatsapp:+1", from_="whatsapp:+2", body="x")
    finally:
        await client.http_client.close()
    assert (raised.value.status, raised.value.code) == (401, 20003)


async def test_twilio_media_requires_auth_and_host_is_rewritten(
    tw: FakeTwilioAPI, twilio: Client
) -> None:
    url = tw.add_media(b"\xff\xd8jpeg", "image/jpeg")
    async with httpx.AsyncClient() as http:
        assert (await http.get(url)).status_code == 401
        authed = await http.get(url, auth=(ACCOUNT_SID, AUTH_TOKEN))
    assert authed.content == b"\xff\xd8jpeg" and authed.headers["content-type"] == "image/jpeg"

    # The URL as Twilio puts it in a webhook, fetched through the app's client. twilio decodes
    # every body as UTF-8 text, so only a text payload survives this path.
    text_url = tw.add_media(b"caption.txt", "text/plain")
    real_url = text_url.replace(tw.base_url, "https://api.twilio.com")
    via_client = await twilio.request_async("GET", real_url)
    assert via_client.status_code == 200 and via_client.text == "caption.txt"


async def test_signatures_validate_with_twilio(tw: FakeTwilioAPI) -> None:
    url = "https://peerline.example/whatsapp/inbound?x=1"
    params = {"From": "whatsapp:+48600100200", "Body": "cześć"}
    repeated = [("MediaUrl", "https://a"), ("MediaUrl", "https://b"), ("Body", "x")]
    validator = RequestValidator(AUTH_TOKEN)

    assert validator.validate(url, params, sign_twilio_request(AUTH_TOKEN, url, params))
    assert not validator.validate(url, params, sign_twilio_request("other", url, params))
    signature = sign_twilio_request(AUTH_TOKEN, url, repeated)
    assert signature == sign_twilio_request(
        AUTH_TOKEN, url, {"MediaUrl": ["https://a", "https://b"], "Body": "x"}
    )

    seen: list[bool] = []

    async def inbound(request: Request) -> Response:
        form = await request.form()  # a multi-dict with getlist: what RequestValidator needs
        sig = request.headers["X-Twilio-Signature"]
        seen.append(validator.validate(str(request.url), form, sig))
        return Response(status_code=204)

    server = LocalServer(Starlette(routes=[Route("/wa", inbound, methods=["POST"])]))
    await server.start()
    try:
        media_url = tw.add_media(b"img")
        inbound_params = tw.make_inbound(
            "whatsapp:+48600100200", "hello", media=[(media_url, "image/jpeg")]
        )
        assert await tw.deliver_webhook(f"{server.url}/wa", inbound_params) == 204
        assert await tw.deliver_webhook(f"{server.url}/wa", repeated) == 204
    finally:
        await server.stop()
    assert seen == [True, True]
