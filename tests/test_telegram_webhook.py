"""Telegram in webhook mode: the real PTB bot against the fake Bot API, updates through our edge."""

import asyncio

import httpx

from handlers.telegram.channel import WEBHOOK_PATH
from models import ParticipantStatus
from tests.channel_support import running_edge
from tests.fakes.telegram_api import (
    FakeBotAPI,
    make_callback_update,
    make_message_update,
    make_my_chat_member_update,
)


async def test_start_registers_the_webhook_with_a_secret_and_the_update_kinds_we_handle(
    database_url,
):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        assert api.webhook_url == edge.url + WEBHOOK_PATH
        assert api.webhook_secret and len(api.webhook_secret) >= 32
        [call] = api.calls_to("setWebhook")
        assert set(call.params["allowed_updates"]) == {
            "message", "edited_message", "callback_query", "my_chat_member",
        }  # fmt: skip


def keyboards(api: FakeBotAPI, chat_id: int) -> list[list[str]]:
    """The callback data of each inline keyboard sent to `chat_id`, in order."""
    return [
        [row[0]["callback_data"] for row in c.params["reply_markup"]["inline_keyboard"]]
        for c in api.calls_to("sendMessage")
        if c.ok and c.params["chat_id"] == chat_id and c.params.get("reply_markup")
    ]


async def test_a_new_woman_starts_and_gets_her_first_choice_as_inline_buttons(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        assert await api.deliver_webhook(make_message_update(42, "/start")) == 200
        await edge.drain()

        assert api.sent_texts(42)
        assert all(" " in text for text in api.sent_texts(42))  # words, not text ids
        [first, *_] = keyboards(api, 42)
        assert first and all(len(choice.encode()) <= 64 for choice in first)
        assert (await edge.participant("telegram", "42")) is not None


async def test_pressing_a_button_answers_the_callback_and_moves_her_on(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        await api.deliver_webhook(make_message_update(42, "/start"))
        await edge.drain()
        sent_before = len(api.sent_texts(42))
        [choice, *_] = keyboards(api, 42)[-1]
        await api.deliver_webhook(make_callback_update(42, choice, 1))
        await edge.drain()

        assert len(api.calls_to("answerCallbackQuery")) == 1
        assert len(api.sent_texts(42)) > sent_before


async def test_a_button_on_an_old_or_foreign_keyboard_is_still_answered(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        await api.deliver_webhook(make_callback_update(42, "someone-elses:button", 1))
        await edge.drain()
        assert len(api.calls_to("answerCallbackQuery")) == 1


async def test_the_same_update_delivered_twice_is_handled_once(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        update = make_message_update(42, "/start", update_id=500)
        assert await api.deliver_webhook(update) == 200
        assert await api.deliver_webhook(update) == 200
        await edge.drain()
        assert len(api.sent_texts(42)) == 1
        assert (await edge.counts())["processed"] == 1


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_written(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        body = make_message_update(42, "Hello", update_id=7)
        async with httpx.AsyncClient() as client:
            wrong = await client.post(
                edge.url + WEBHOOK_PATH,
                json=body,
                headers={"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"},
            )
            missing = await client.post(edge.url + WEBHOOK_PATH, json=body)
        await edge.drain()
        assert wrong.status_code == missing.status_code == 403
        assert await edge.counts() == {"participants": 0, "outbox": 0, "processed": 0}
        assert api.calls_to("sendMessage") == []


async def test_malformed_json_and_wrong_content_types_get_4xx_without_a_trace(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        headers = {"X-Telegram-Bot-Api-Secret-Token": api.webhook_secret}
        async with httpx.AsyncClient() as client:
            url = edge.url + WEBHOOK_PATH
            malformed = await client.post(
                url, content=b"foo", headers={**headers, "Content-Type": "application/json"}
            )
            not_object = await client.post(url, json=[1, 2], headers=headers)
            form = await client.post(url, data={"update_id": "1"}, headers=headers)
            huge = await client.post(
                url,
                content=b'{"update_id": 1, "x": "' + b"a" * 2_000_000 + b'"}',
                headers={**headers, "Content-Type": "application/json"},
            )
        await edge.drain()
        assert malformed.status_code == 400 and "Traceback" not in malformed.text
        assert not_object.status_code == 400
        assert form.status_code == 415
        assert huge.status_code == 413
        assert await edge.counts() == {"participants": 0, "outbox": 0, "processed": 0}


async def test_blocking_the_bot_marks_her_stopped_and_unblocking_makes_her_active(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        await api.deliver_webhook(make_message_update(42, "Hello"))
        await edge.drain()
        await api.deliver_webhook(make_my_chat_member_update(42, "kicked"))
        await edge.drain()
        assert (await edge.participant("telegram", "42")).status == ParticipantStatus.STOPPED
        await api.deliver_webhook(make_my_chat_member_update(42, "member", old_status="kicked"))
        await edge.drain()
        assert (await edge.participant("telegram", "42")).status == ParticipantStatus.ACTIVE


async def test_a_group_is_refused_politely_once_and_left_without_creating_anyone(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        await api.deliver_webhook(make_message_update(-1001234567890, "/start", language_code="pl"))
        await api.deliver_webhook(make_message_update(-1001234567890, "/menu", language_code="pl"))
        await edge.drain()
        texts = api.sent_texts(-1001234567890)
        assert len(texts) == 1 and "czatach prywatnych" in texts[0]
        assert len(api.calls_to("leaveChat")) == 1
        assert (await edge.counts())["participants"] == 0


async def test_many_concurrent_webhook_requests_are_all_answered_and_the_service_stays_up(
    database_url,
):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        good = {"X-Telegram-Bot-Api-Secret-Token": api.webhook_secret}
        bad = {"X-Telegram-Bot-Api-Secret-Token": "nope"}
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:

            async def post(i: int) -> int:
                headers = good if i % 5 == 0 else bad
                update = make_message_update(1000 + (i // 5) % 10, f"hi {i}", update_id=10_000 + i)
                response = await client.post(edge.url + WEBHOOK_PATH, json=update, headers=headers)
                return response.status_code

            statuses = await asyncio.gather(*(post(i) for i in range(250)))
            health = await client.get(edge.url + "/healthz")
        await edge.drain()
        assert set(statuses) <= {200, 403, 429}
        assert statuses.count(403) == 200
        assert health.status_code == 200
        assert (await edge.counts())["participants"] == 10
