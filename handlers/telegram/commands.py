"""The commands menu and the bot's descriptions, in each of our languages."""

import logging
from collections.abc import Iterable

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats
from telegram.error import TelegramError

from i18n import CLOSEST, LANGUAGES, N_, translate

# The menu's descriptions, built as f"command.{name}".
COMMAND_TEXTS = (
    N_("command.block"),
    N_("command.end"),
    N_("command.exit"),
    N_("command.forget"),
    N_("command.help"),
    N_("command.language"),
    N_("command.menu"),
    N_("command.news"),
    N_("command.report"),
    N_("command.sos"),
    N_("command.start"),
)

log = logging.getLogger(__name__)

# Shown in every language; other commands join when they have a "command.<name>" text.
BASE_COMMANDS = ("start", "menu", "language", "help")
DESCRIPTION_IDS = (N_("bot.description"), N_("bot.short_description"))
# Discreet mode: neutral words, and only the everyday commands in the menu (the others still
# work when typed, and /menu shows the quick exit and the help path).
DISCREET_DESCRIPTION_IDS = (N_("discreet.description"), N_("discreet.short_description"))
DISCREET_COMMANDS = {
    "start": N_("discreet.command_start"),
    "menu": N_("discreet.command_menu"),
    "language": "command.language",
    "help": N_("discreet.command_help"),
}
DEFAULT_LANGUAGE = "en"  # what Telegram shows to anyone whose app language we do not speak


def command_names(extra: Iterable[str] = ()) -> list[str]:
    names = list(BASE_COMMANDS)
    for name in sorted(set(extra)):
        if name not in names and translate("en", f"command.{name}") != f"command.{name}":
            names.append(name)
    return names


def commands_for(
    language: str, names: Iterable[str], *, discreet: bool = False
) -> list[BotCommand]:
    if discreet:
        return [
            BotCommand(name, translate(language, DISCREET_COMMANDS[name])[:256])
            for name in names
            if name in DISCREET_COMMANDS
        ]
    return [BotCommand(name, translate(language, f"command.{name}")[:256]) for name in names]


async def publish(bot: Bot, names: list[str], *, discreet: bool = False) -> None:
    """setMyCommands, setMyDescription and setMyShortDescription per language; never fatal."""
    scope = BotCommandScopeAllPrivateChats()
    description, short = DISCREET_DESCRIPTION_IDS if discreet else DESCRIPTION_IDS
    # Each language under its own code, and apps in a language we lack (Belarusian) get the
    # closest one we speak (Russian) rather than English.
    menus = [
        (language, None if language == DEFAULT_LANGUAGE else language) for language in LANGUAGES
    ]
    menus += [(closest, code) for code, closest in CLOSEST.items()]
    for language, code in menus:
        try:
            await bot.set_my_commands(
                commands_for(language, names, discreet=discreet), scope=scope, language_code=code
            )
            await bot.set_my_description(translate(language, description)[:512], language_code=code)
            await bot.set_my_short_description(translate(language, short)[:120], language_code=code)
        except TelegramError as error:
            log.warning("could not publish the %s commands menu: %s", language, error.message)
