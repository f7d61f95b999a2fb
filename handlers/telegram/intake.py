"""Updates wait in memory between the webhook's quick 200 (or a poll) and the router.

Updates are sharded by chat over a few workers, so one chat's messages keep their order while
different chats are handled side by side; a full queue refuses, and Telegram sends again later.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]


def chat_key(update: dict[str, Any]) -> int:
    """Any stable number for the chat (or user) an update belongs to; 0 when there is none."""
    for kind in ("message", "edited_message", "callback_query", "my_chat_member"):
        body = update.get(kind)
        if isinstance(body, dict):
            for holder in (body.get("chat"), body.get("message"), body.get("from")):
                if isinstance(holder, dict):
                    chat = holder.get("chat") if "chat" in holder else holder
                    if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                        return chat["id"]
    return 0


class UpdateQueue:
    def __init__(self, handler: Handler, workers: int = 4, capacity: int = 1000) -> None:
        self.handler = handler
        self.shards: list[asyncio.Queue[dict[str, Any]]] = [
            asyncio.Queue(maxsize=max(1, capacity // max(1, workers)))
            for _ in range(max(1, workers))
        ]
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    def submit(self, update: dict[str, Any]) -> bool:
        """Queue an update; False when this chat's shard is full (the caller answers 429)."""
        shard = self.shards[chat_key(update) % len(self.shards)]
        try:
            shard.put_nowait(update)
        except asyncio.QueueFull:
            return False
        return True

    async def put(self, update: dict[str, Any]) -> None:
        """Queue an update, waiting for room (the poller's back-pressure)."""
        await self.shards[chat_key(update) % len(self.shards)].put(update)

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._work(shard), name=f"telegram-updates-{i}")
                for i, shard in enumerate(self.shards)
            ]

    async def _work(self, shard: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            update = await shard.get()
            try:
                await self.handler(update)
            except Exception:
                log.exception("a Telegram update could not be handled")
            finally:
                shard.task_done()

    async def join(self, within: float = 10.0) -> None:
        """Wait until everything queued so far is handled (tests, and a graceful stop)."""
        deadline = time.monotonic() + within
        for shard in self.shards:
            remaining = max(0.0, deadline - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(shard.join(), remaining)

    async def stop(self, grace: float = 5.0) -> None:
        if self._tasks:
            await self.join(grace)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
