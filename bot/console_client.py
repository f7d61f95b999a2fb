"""The terminal side of the console channel: type to the bot, see its answers as they come."""

import asyncio
import sys
import threading
import uuid

import httpx
from rich.console import Console

console = Console(highlight=False)


class ConsoleUnreachable(Exception):
    """No service with an open console answers at the address; the message says what to do."""


async def chat(base_url: str, name: str, *, greet: bool = True) -> None:
    """Chat as `name` until end of input (Ctrl-D) or Ctrl-C."""
    async with httpx.AsyncClient(base_url=base_url, timeout=40) as client:
        try:
            if greet:
                await _post(client, name, "/start", if_new=True)
        except httpx.ConnectError:
            raise ConsoleUnreachable(
                f"no Peerline service answers at {base_url}: start one with "
                "`peerline run --console` (or `make run`), or pass --url"
            ) from None
        poller = asyncio.create_task(_print_incoming(client, name))
        lines = _stdin_lines()
        try:
            console.print(f"[dim]You are '{name}'. Type a message, a number for a choice, "
                          "or /help. Ctrl-D leaves.[/dim]")  # fmt: skip
            while True:
                line = await lines.get()
                if not line:
                    break
                if line.strip():
                    await _post(client, name, line.rstrip("\n"))
            await asyncio.sleep(0.5)  # let the last answers arrive before leaving
        finally:
            poller.cancel()


def _stdin_lines() -> asyncio.Queue[str]:
    """Lines from standard input, read in a daemon thread so Ctrl-C never waits for Enter."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        while True:
            line = sys.stdin.readline()
            try:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            except RuntimeError:  # the chat has ended and its loop is closed
                return
            if not line:
                return

    threading.Thread(target=read, name="console-stdin", daemon=True).start()
    return lines


async def _post(client: httpx.AsyncClient, name: str, text: str, *, if_new: bool = False) -> None:
    body = {"as": name, "text": text, "id": uuid.uuid4().hex, "if_new": if_new}
    response = await client.post("/console/messages", json=body)
    if response.status_code == 404:
        raise ConsoleUnreachable(
            "the service runs without its console: start it with `peerline run --console`"
        )
    if response.status_code != 200:
        console.print(f"[red]the service answered {response.status_code}[/red]")


async def _print_incoming(client: httpx.AsyncClient, name: str) -> None:
    while True:
        try:
            response = await client.get("/console/poll", params={"as": name, "wait": 20})
            for message in response.json().get("messages", []):
                console.print(f"[bold magenta]Peerline:[/bold magenta] {message}")
                sys.stdout.flush()
        except (httpx.HTTPError, ValueError):
            await asyncio.sleep(1)
