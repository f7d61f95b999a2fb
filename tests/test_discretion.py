"""Discretion: DISCREET=true gives the bot a neutral description and menu, and relayed words
are protected on Telegram so neither woman can forward the other's words out of the bot."""

from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI
from tests.test_stale_buttons import ready_pair

GIVEAWAYS = ("exit", "forget", "sos", "report", "block", "Delete", "Help now", "112", "violence")


async def test_discreet_mode_publishes_a_neutral_description_and_menu(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api, discreet=True):
        [english] = [c for c in api.calls_to("setMyCommands") if not c.params.get("language_code")]
        names = [c["command"] for c in english.params["commands"]]
        assert names == ["start", "menu", "language", "help"]
        published = " ".join(
            str(c.params)
            for c in api.calls
            if c.method in ("setMyCommands", "setMyDescription", "setMyShortDescription")
        )
        assert not any(word in published for word in GIVEAWAYS)


async def test_without_discreet_mode_the_menu_names_the_quick_exit(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api):
        [english] = [c for c in api.calls_to("setMyCommands") if not c.params.get("language_code")]
        assert "exit" in [c["command"] for c in english.params["commands"]]


async def test_relayed_words_are_protected_content_and_the_bots_own_are_not(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        dalia, leyla = await ready_pair(api, edge)
        await dalia.press("offer:accept:")
        await leyla.say("Hello, thank you.")
        await dalia.say("Hello, I am here.")
        relayed = [c for c in api.calls_to("sendMessage") if ": Hello" in c.params["text"]]
        assert len(relayed) == 2 and all(c.params.get("protect_content") for c in relayed)
        menu = [
            c for c in api.calls_to("sendMessage") if "asking our supporters" in c.params["text"]
        ]
        assert menu and not menu[0].params.get("protect_content")
