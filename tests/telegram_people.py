"""People on the fake Bot API who press the buttons on the very message that carried them."""

from typing import Any

from tests.fakes.telegram_api import FakeBotAPI, make_callback_update
from tests.test_e2e_telegram import Script


class Person(Script):
    """Like `Script`, but a press names its message and keyboard, as Telegram's own does."""

    def __init__(self, api: FakeBotAPI, edge: Any, user: dict[str, Any]) -> None:
        super().__init__(api, edge, user)

    def keyboard_message(self, prefix: str, suffix: str = "") -> tuple[int, dict[str, Any], str]:
        """The newest message to her carrying a button `prefix…suffix`: (id, markup, data)."""
        for call in reversed(self.api.calls):
            if not call.ok or str(call.params.get("chat_id")) != str(self.chat):
                continue
            markup = call.params.get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data", "")
                    if data.startswith(prefix) and data.endswith(suffix):
                        message_id = call.params.get("message_id")
                        if message_id is None and isinstance(call.result, dict):
                            message_id = call.result["message_id"]
                        return int(message_id), markup, data
        raise AssertionError(f"no button {prefix!r} was sent to {self.user['first_name']}")

    async def press_on(self, message_id: int, markup: dict[str, Any], data: str) -> None:
        update = make_callback_update(self.chat, data, message_id, user=self.user)
        update["callback_query"]["message"]["reply_markup"] = markup
        await self._deliver(update)

    async def press(self, prefix: str, suffix: str = "") -> str:
        message_id, markup, data = self.keyboard_message(prefix, suffix)
        await self.press_on(message_id, markup, data)
        return data

    def markups_of(self, message_id: int) -> list[dict[str, Any] | None]:
        """Every keyboard the bot later put on `message_id` (edits of that message)."""
        return [
            call.params.get("reply_markup")
            for call in self.api.calls
            if call.method in ("editMessageReplyMarkup", "editMessageText")
            and str(call.params.get("chat_id")) == str(self.chat)
            and int(call.params.get("message_id", 0)) == message_id
        ]
