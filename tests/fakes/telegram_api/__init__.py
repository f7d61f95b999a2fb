"""A fake Telegram Bot API server for end-to-end tests with the real python-telegram-bot.

PTB is pointed at it with ``base_url``/``base_file_url``; every request goes over real HTTP, so
PTB's own encoding, error mapping (``RetryAfter``, ``Forbidden``, ``BadRequest`` ...) and polling
loop are exercised exactly as in production. Answers use the real Bot API shapes; failures can be
scripted per method (and per chat) in one line, like aiogram's test bot.

Usage::

    async with FakeBotAPI(token="123:ABC") as api:
        app = (ApplicationBuilder().token(api.token)
               .base_url(api.base_url).base_file_url(api.base_file_url).build())
        api.push_update(make_message_update(42, "/start"))
"""

from tests.fakes.telegram_api.server import FakeBotAPI
from tests.fakes.telegram_api.updates import (
    make_callback_update,
    make_message_update,
    make_my_chat_member_update,
)
from tests.fakes.telegram_api.wire import Call, UploadedFile

__all__ = [
    "Call",
    "FakeBotAPI",
    "UploadedFile",
    "make_callback_update",
    "make_message_update",
    "make_my_chat_member_update",
]
