"""The local console channel: a terminal chat against the running service, no tokens needed.

The service keeps one mailbox per console name; `peerline chat --as NAME` posts what she types
and long-polls her mailbox over loopback HTTP. Buttons become numbered choices.
"""

import asyncio
from collections import defaultdict

from handlers.base import RenderedMessage, SentMessage

NAME = "console"


def layout(message: RenderedMessage) -> str:
    """The text with its buttons as numbered lines, as a terminal shows them."""
    lines = [message.text]
    for number, button in enumerate(message.buttons, start=1):
        target = f" ({button.url})" if button.url else ""
        lines.append(f"  {number}. {button.label}{target}")
    if message.media is not None:
        lines.append(f"  [{message.media.kind}]")
    return "\n".join(lines)


class ConsoleChannel:
    name = NAME

    def __init__(self) -> None:
        self._mailboxes: dict[str, asyncio.Queue[str]] = defaultdict(asyncio.Queue)
        self._counter = 0
        self.closed = False

    def close(self) -> None:
        """The service is stopping: every open poll answers now instead of holding it up."""
        self.closed = True

    async def send(self, address: str, message: RenderedMessage) -> SentMessage:
        self._counter += 1
        await self._mailboxes[address].put(layout(message))
        return SentMessage(channel_message_id=str(self._counter))

    async def wait_for_messages(self, address: str, wait_seconds: float) -> list[str]:
        """Everything waiting for `address`, waiting up to `wait_seconds` for the first one."""
        box = self._mailboxes[address]
        if self.closed:
            return []
        try:
            first = await asyncio.wait_for(box.get(), timeout=wait_seconds)
        except TimeoutError:
            return []
        messages = [first]
        while not box.empty():
            messages.append(box.get_nowait())
        return messages
