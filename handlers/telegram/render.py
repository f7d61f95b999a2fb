"""Lay a rendered message out for Telegram: inline keyboards, text split at Telegram's limits."""

import logging
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.base import RenderedMessage
from handlers.base import split_text as split_parts  # this module's split_text counts UTF-16

log = logging.getLogger(__name__)

MAX_TEXT = 4096  # UTF-16 code units, as Telegram counts
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes
# Telegram accepts only these in URL buttons; a phone number (tel:) goes into the text instead.
BUTTON_SCHEMES = ("https://", "http://", "tg://")


@dataclass(frozen=True)
class TelegramLayout:
    chunks: tuple[str, ...]  # the text, split so that each part fits one message
    keyboard: InlineKeyboardMarkup | None


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split at paragraph, line or word boundaries so each part stays within `limit`."""
    return split_parts(text, limit, length=utf16_len, fit=_fit)


def _fit(text: str, limit: int) -> int:
    """The longest prefix length (in characters) whose UTF-16 length is within `limit`."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def layout(message: RenderedMessage) -> TelegramLayout:
    rows: list[list[InlineKeyboardButton]] = []
    text_lines: list[str] = []
    for button in message.buttons:
        if button.url:
            if button.url.startswith(BUTTON_SCHEMES):
                rows.append([InlineKeyboardButton(button.label, url=button.url)])
            else:
                text_lines.append(f"{button.label}: {button.url.removeprefix('tel:')}")
            continue
        if len(button.choice.encode()) > MAX_CALLBACK_DATA:
            log.warning("a button choice is longer than Telegram allows; button left out")
            continue
        rows.append([InlineKeyboardButton(button.label, callback_data=button.choice)])
    text = message.text
    if text_lines:
        text = "\n\n".join(filter(None, [text, "\n".join(text_lines)]))
    return TelegramLayout(tuple(split_text(text)), InlineKeyboardMarkup(rows) if rows else None)
