"""Telegram without PUBLIC_URL: PTB's real updater long-polls the fake Bot API."""

from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI, make_message_update


async def test_polling_mode_receives_updates_and_answers_in_the_chat(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api, webhook=False) as edge:
        assert edge.telegram.mode == "polling"
        assert api.webhook_url is None
        api.push_update(make_message_update(77, "/start"))
        await api.wait_for_calls("getUpdates", 2)  # the update was fetched and confirmed
        await edge.drain()

        assert api.sent_texts(77)
        assert (await edge.participant("telegram", "77")) is not None


async def test_the_commands_menu_and_descriptions_are_set_in_every_language(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api, webhook=False):
        menus = api.calls_to("setMyCommands")
        languages = {call.params.get("language_code") for call in menus}
        assert languages == {None, "pl", "uk", "ru", "fa", "ar"}
        polish = next(c for c in menus if c.params.get("language_code") == "pl")
        names = [command["command"] for command in polish.params["commands"]]
        assert {"start", "menu", "help", "language"} <= set(names)
        assert all(c["description"] != f"command.{c['command']}" for c in polish.params["commands"])
        assert polish.params["scope"] == {"type": "all_private_chats"}
        assert len(api.calls_to("setMyDescription")) == 6
        assert len(api.calls_to("setMyShortDescription")) == 6
