"""Telegram without PUBLIC_URL: PTB's real updater long-polls the fake Bot API."""

import asyncio
import os
import sys
from pathlib import Path

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
        assert languages == {None, "pl", "uk", "ru", "fa", "ar", "be"}
        belarusian = next(c for c in menus if c.params.get("language_code") == "be")
        russian = next(c for c in menus if c.params.get("language_code") == "ru")
        assert belarusian.params["commands"] == russian.params["commands"]  # not English
        polish = next(c for c in menus if c.params.get("language_code") == "pl")
        names = [command["command"] for command in polish.params["commands"]]
        assert {"start", "menu", "help", "language"} <= set(names)
        assert all(c["description"] != f"command.{c['command']}" for c in polish.params["commands"])
        assert polish.params["scope"] == {"type": "all_private_chats"}
        assert len(api.calls_to("setMyDescription")) == 7
        assert len(api.calls_to("setMyShortDescription")) == 7


async def test_peerline_run_with_a_token_polls_telegram_and_answers(tmp_path):
    """The production path: `peerline run` attaches Telegram from the environment and polls."""
    peerline = str(Path(sys.executable).parent / "peerline")
    async with FakeBotAPI() as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "TWILIO"))}
        env.update(
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/peerline.db",
            SECRET_KEY="run-test-key",
            PORT="0",
            TELEGRAM_BOT_TOKEN=api.token,
            TELEGRAM_API_BASE_URL=api.base_url.removesuffix("/bot"),
        )
        env.pop("PUBLIC_URL", None)
        process = await asyncio.create_subprocess_exec(
            peerline, "run", env=env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            api.push_update(make_message_update(77, "/start"))
            await api.wait_for_calls("sendMessage", 1, within=60)
            assert api.sent_texts(77)
            assert api.calls_to("setMyCommands") and api.webhook_url is None
        finally:
            process.terminate()
            await asyncio.wait_for(process.wait(), 30)
