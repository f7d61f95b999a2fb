"""Quick exit: on Telegram the recent chat is deleted through the Bot API; elsewhere, how to."""

from datetime import timedelta

from sqlalchemy import select, update

from i18n import translate
from models import OutboxMessage, OutboxStatus, ProcessedInbound
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI, make_callback_update, make_message_update
from tests.support import ChatUser, running_service


async def bot_message_ids(edge) -> set[int]:
    async with edge.service.session_factory() as session:
        rows = await session.execute(
            select(OutboxMessage.channel_message_id).where(
                OutboxMessage.channel_message_id.is_not(None)
            )
        )
        return {int(value) for value in rows.scalars()}


async def age_everything(edge, hours: float) -> None:
    """Make every message so far `hours` old, as if the conversation happened days ago."""
    past = edge.service.clock.now() - timedelta(hours=hours)
    async with edge.service.session_factory() as session, session.begin():
        await session.execute(update(OutboxMessage).values(sent_at=past, created_at=past))
        await session.execute(update(ProcessedInbound).values(received_at=past))


async def deleted_ids(api: FakeBotAPI, chat_id: int) -> list[int]:
    calls = [c for c in api.calls_to("deleteMessages") if int(c.params["chat_id"]) == chat_id]
    return [int(i) for c in calls for i in c.params["message_ids"]]


async def test_quick_exit_deletes_her_messages_and_the_bots_from_the_last_48_hours(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        await api.deliver_webhook(make_message_update(42, "/start", message_id=11))
        await edge.drain()
        old_ids = await bot_message_ids(edge)
        await age_everything(edge, hours=49)  # what is older than 48 hours stays
        await api.deliver_webhook(make_message_update(42, "hello", message_id=21))
        await edge.drain()
        recent_bot_ids = await bot_message_ids(edge) - old_ids
        assert recent_bot_ids

        await api.deliver_webhook(make_message_update(42, "/exit", message_id=22))
        await edge.drain()

        assert sorted(await deleted_ids(api, 42)) == sorted({21, 22} | recent_bot_ids)
        async with edge.service.session_factory() as session:
            [row] = (await session.execute(
                select(OutboxMessage).where(OutboxMessage.kind == "delete")
            )).scalars().all()  # fmt: skip
        assert row.text_id == "exit.done" and row.status == OutboxStatus.SENT
        # After the deletions, one innocuous line is all that is left in the chat.
        methods = [c.method for c in api.calls if c.params.get("chat_id") in (42, "42")]
        assert methods[-1] == "sendMessage" and "deleteMessages" in methods[-3:-1]
        assert api.sent_texts(chat_id=42)[-1] == translate("en", "exit.done")


async def test_the_quick_exit_button_works_from_any_step(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        await api.deliver_webhook(make_message_update(7, "/start", message_id=5))
        await edge.drain()
        await api.deliver_webhook(make_callback_update(7, "exit:now", 1))
        await edge.drain()
        deleted = await deleted_ids(api, 7)
        left = set(await bot_message_ids(edge)) - set(deleted)
        assert 5 in deleted and len(left) == 1  # only the innocuous line stays


async def test_on_whatsapp_she_is_told_how_to_delete_the_chat(database_url):
    async with running_service(database_url) as service:
        her = ChatUser(service, "+48500100200", channel="whatsapp")
        await her.command("start")
        [reply] = await her.command("exit")
        assert "WhatsApp" in reply.text and "Delete chat" in reply.text
        async with service.session_factory() as session:
            kinds = (await session.execute(select(OutboxMessage.kind))).scalars().all()
        assert "delete" not in kinds


async def test_messages_still_waiting_for_her_are_not_sent_after_a_quick_exit(database_url):
    async with running_service(database_url) as service:
        her = ChatUser(service, "42")
        await her.command("start")  # replies queued, never sent: no channel drains them here
        await her.command("exit")
        async with service.session_factory() as session:
            rows = (await session.execute(select(OutboxMessage))).scalars().all()
        pending = [r for r in rows if r.status == OutboxStatus.PENDING]
        assert [r.kind for r in pending] == ["delete"]
        # Kept back, words and all, until she writes again and asks for them.
        assert all(r.params is not None for r in rows if r.status == OutboxStatus.HELD)
        assert any(r.status == OutboxStatus.HELD for r in rows)
        assert all(r.params is None for r in rows if r.status == OutboxStatus.DROPPED)
