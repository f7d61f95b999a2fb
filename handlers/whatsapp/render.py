"""Lay a rendered message out for WhatsApp: buttons as numbered lines, long text in parts."""

from handlers.base import RenderedMessage, split_text
from i18n import N_, translate

MAX_BODY = 1600  # Twilio's limit for one WhatsApp message body
REPLY_ONE = N_("whatsapp.reply_one")
REPLY_NUMBER = N_("whatsapp.reply_number")
REPLY_RANGE = N_("whatsapp.reply_range")
NOT_SHOWN = N_("channel.media_not_shown")


def _target(url: str) -> str:
    return url.removeprefix("tel:")


def compose(message: RenderedMessage, *, media_notice: bool = False) -> str:
    """The words, then "1. …" lines and "Reply with a number from 1 to 3." in her language.

    Every button is numbered in its order, as the router maps a typed number back to the
    button in that position; a link or phone number is written out after its label. A message
    sent right after another with choices numbers on from it (`_number_from`), so that both
    stay typeable.
    """
    parts = [message.text] if message.text else []
    if media_notice:
        parts.append(translate(message.language, NOT_SHOWN))
    if message.buttons:
        lines = []
        first = int(str(message.extra.get("_number_from") or 1))
        for number, button in enumerate(message.buttons, start=first):
            label = f"{button.label}: {_target(button.url)}" if button.url else button.label
            lines.append(f"{number}. {label}")
        parts.append("\n".join(lines))
        count = len(message.buttons)
        if first > 1:
            last = first + count - 1
            hint = translate(message.language, REPLY_RANGE, {"first": first, "last": last})
        elif count == 1:
            hint = translate(message.language, REPLY_ONE)
        else:
            hint = translate(message.language, REPLY_NUMBER, {"last": count})
        parts.append(hint)
    return "\n\n".join(parts)


def split_body(text: str, limit: int = MAX_BODY) -> list[str]:
    return split_text(text, limit)
