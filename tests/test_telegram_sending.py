"""What the Telegram channel sends for each kind of outbox row, and how API errors are read."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest

from flows.events import MediaRef
from handlers.base import (
    PermanentFailure,
    RecipientUnreachable,
    RenderedButton,
    RenderedMessage,
    RetryLater,
    TemporaryFailure,
)
from handlers.telegram import TelegramChannel
from handlers.whatsapp.media import fetch_twilio_media
from models import OutboxMessage, OutboxStatus, ParticipantStatus
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI, make_message_update
from tests.fakes.twilio_api import FakeTwilioAPI


@asynccontextmanager
async def channel_for(api: FakeBotAPI, **kwargs) -> AsyncIterator[TelegramChannel]:
    channel = TelegramChannel(
        api.token,
        router=None,
        api_base_url=api.base_url.removesuffix("/bot"),
        secret="s" * 40,
        **kwargs,
    )
    try:
        yield channel
    finally:
        await channel.stop()


async def test_buttons_become_an_inline_keyboard_and_phone_numbers_go_into_the_text():
    message = RenderedMessage(
        "Choose one.",
        buttons=(
            RenderedButton("Talk to someone", "menu:talk"),
            RenderedButton("Police", "call", url="tel:112"),
            RenderedButton("Website", "site", url="https://example.org"),
        ),
    )
    async with FakeBotAPI() as api, channel_for(api) as channel:
        sent = await channel.send("42", message)
        [call] = api.calls_to("sendMessage")
        keyboard = call.params["reply_markup"]["inline_keyboard"]
        assert keyboard == [
            [{"text": "Talk to someone", "callback_data": "menu:talk"}],
            [{"text": "Website", "url": "https://example.org"}],
        ]
        assert call.params["text"] == "Choose one.\n\nPolice: 112"
        assert sent.channel_message_id is not None and sent.channel_message_id.isdigit()


async def test_a_very_long_text_is_split_and_the_buttons_come_with_the_last_part():
    text = ("A sentence of words. " * 500).strip()
    message = RenderedMessage(text, buttons=(RenderedButton("OK", "ok"),))
    async with FakeBotAPI() as api, channel_for(api) as channel:
        await channel.send("42", message)
        calls = api.calls_to("sendMessage")
        assert len(calls) == 3 and all(call.ok for call in calls)
        assert [bool(c.params.get("reply_markup")) for c in calls] == [False, False, True]
        assert " ".join(c.params["text"] for c in calls).split() == text.split()


async def test_media_is_sent_by_file_id_with_the_text_as_caption():
    voice = MediaRef("voice", "file-abc", "audio/ogg", 1000)
    sticker = MediaRef("sticker", "file-st")
    async with FakeBotAPI() as api, channel_for(api) as channel:
        await channel.send("42", RenderedMessage("From Iris:", media=voice))
        await channel.send("42", RenderedMessage("From Iris:", media=sticker))
        [voice_call] = api.calls_to("sendVoice")
        assert voice_call.params["voice"] == "file-abc"
        assert voice_call.params["caption"] == "From Iris:"
        [sticker_call] = api.calls_to("sendSticker")
        assert "caption" not in sticker_call.params  # stickers take none: the words follow
        assert api.sent_texts(42) == ["From Iris:"]


async def test_her_own_message_is_copied_never_forwarded():
    message = RenderedMessage(
        "relay.text",
        extra={"copy_from_address": "1001", "_copy_message_id": 55, "_copy_from": 3},
    )
    async with FakeBotAPI() as api, channel_for(api) as channel:
        sent = await channel.send("42", message)
        [call] = api.calls_to("copyMessage")
        assert (call.params["chat_id"], call.params["from_chat_id"]) == (42, 1001)
        assert call.params["message_id"] == 55
        assert api.calls_to("forwardMessage") == [] and api.calls_to("sendMessage") == []
        assert sent.channel_message_id


async def test_quick_exit_deletes_her_messages_in_batches_of_a_hundred():
    ids = list(range(1, 251))
    async with FakeBotAPI() as api, channel_for(api) as channel:
        await channel.send("42", RenderedMessage("", kind="delete", extra={"_delete": ids}))
        calls = api.calls_to("deleteMessages")
        assert [len(c.params["message_ids"]) for c in calls] == [100, 100, 50]
        assert [i for c in calls for i in c.params["message_ids"]] == ids


async def test_an_edit_changes_the_earlier_copy_and_an_unchanged_text_is_not_an_error():
    message = RenderedMessage("Edited words", kind="edit", extra={"_edit_of": "17"})
    async with FakeBotAPI() as api, channel_for(api) as channel:
        sent = await channel.send("42", message)
        api.add_result_for(
            "editMessageText", ok=False, description="Bad Request: message is not modified"
        )
        await channel.send("42", message)
        first = api.calls_to("editMessageText")[0]
        assert (first.params["message_id"], first.params["text"]) == (17, "Edited words")
        assert sent.channel_message_id == "17"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ({"retry_after": 5}, RetryLater),
        ({"error_code": 403}, RecipientUnreachable),
        (
            {"error_code": 403, "description": "Forbidden: user is deactivated"},
            RecipientUnreachable,
        ),
        ({"error_code": 400, "description": "Bad Request: chat not found"}, PermanentFailure),
        ({"error_code": 500}, TemporaryFailure),
        ({"error_code": 502}, TemporaryFailure),
    ],
)
async def test_api_errors_become_the_outbox_errors_that_say_what_to_do(script, expected):
    async with FakeBotAPI() as api, channel_for(api) as channel:
        api.add_result_for("sendMessage", ok=False, **script)
        with pytest.raises(expected) as caught:
            await channel.send("42", RenderedMessage("Hello."))
        if expected is RetryLater:
            assert caught.value.delay == 5


async def test_a_voice_note_from_whatsapp_is_re_uploaded_to_telegram_as_voice():
    async with FakeTwilioAPI() as tw, FakeBotAPI() as api:

        async def fetch(url: str):
            return await fetch_twilio_media(
                url, account_sid=tw.account_sid, auth_token=tw.auth_token,
                api_base_url=tw.base_url, max_bytes=1000,
            )  # fmt: skip

        url = tw.add_media(b"OggS-voice-bytes", "audio/ogg")
        big = tw.add_media(b"x" * 5000, "audio/ogg")
        async with channel_for(api, fetch_media=fetch) as channel:
            await channel.send("42", RenderedMessage("From Iris:", media=MediaRef("voice", url)))
            await channel.send("42", RenderedMessage("From Iris:", media=MediaRef("voice", big)))
        [upload] = api.calls_to("sendVoice")
        assert upload.params["voice"].data == b"OggS-voice-bytes"
        [notice] = api.sent_texts(42)
        assert notice.startswith("From Iris:") and "cannot be shown here" in notice


async def test_a_media_url_that_is_not_twilios_is_never_fetched_with_credentials():
    async with FakeBotAPI() as api:

        async def fetch(url: str):
            return await fetch_twilio_media(
                url, account_sid="AC1", auth_token="t", api_base_url=None, max_bytes=1000
            )

        async with channel_for(api, fetch_media=fetch) as channel:
            media = MediaRef("voice", api.base_url + "/steal")
            await channel.send("42", RenderedMessage("Hi", media=media))
        assert api.calls_to("steal") == []
        assert "cannot be shown here" in api.sent_texts(42)[0]


async def test_a_429_is_retried_by_the_outbox_after_the_delay_telegram_asked_for(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        api.add_result_for("sendMessage", ok=False, retry_after=30)
        started = edge.service.clock.now()
        await api.deliver_webhook(make_message_update(42, "/start"))
        await edge.drain()

        calls = api.calls_to("sendMessage")
        assert [c.ok for c in calls[:2]] == [False, True]
        assert edge.service.clock.now() - started >= timedelta(seconds=30)


async def test_a_403_from_telegram_marks_her_stopped_and_drops_what_was_waiting(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        api.add_result_for("sendMessage", ok=False, error_code=403)
        await api.deliver_webhook(make_message_update(42, "Hello there"))
        await edge.drain()

        assert (await edge.participant("telegram", "42")).status == ParticipantStatus.STOPPED
        async with edge.service.session_factory() as session:
            from sqlalchemy import select

            statuses = set((await session.execute(select(OutboxMessage.status))).scalars())
        assert OutboxStatus.SENT not in statuses and OutboxStatus.FAILED in statuses
