"""Inbound identity: an update is a duplicate only for the same bot, and a dropped duplicate is
counted. With the same database and a new bot token, numbering starts again: her /start must
not be swallowed as an old update."""

from flows import metrics
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI, make_message_update


def duplicates() -> float:
    return metrics.updates_in.labels("telegram", "duplicate")._value.get()


async def test_a_new_bot_token_on_the_same_database_is_not_taken_for_old_updates(database_url):
    async with FakeBotAPI(token="111:OLD") as old, running_edge(database_url, telegram=old) as edge:
        await old.deliver_webhook({**make_message_update(42, "/start"), "update_id": 7})
        await edge.drain()
        assert old.sent_texts(42)
        counted = duplicates()
        await old.deliver_webhook({**make_message_update(42, "/start"), "update_id": 7})
        await edge.drain()
        assert duplicates() == counted + 1  # the same bot's retry: dropped, and counted

    async with FakeBotAPI(token="222:NEW") as new, running_edge(database_url, telegram=new) as edge:
        await new.deliver_webhook({**make_message_update(43, "/start"), "update_id": 7})
        await edge.drain()
        assert new.sent_texts(43), "her first /start to the new bot was swallowed"
