"""The terminal side of the console channel: type to the bot, see its answers as they come."""

import asyncio
import sys
import uuid

import httpx
from rich.console import Console

console = Console(highlight=False)


async def chat(base_url: str, name: str, *, greet: bool = True) -> None:
    """Chat as `name` until end of input (Ctrl-D) or Ctrl-C."""
    async with httpx.AsyncClient(base_url=base_url, timeout=40) as client:
        poller = asyncio.create_task(_print_incoming(client, name))
        try:
            if greet:
                await _post(client, name, "/start", if_new=True)
            console.print(f"[dim]You are '{name}'. Type a message, a number for a choice, "
                          "or /help. Ctrl-D leaves.[/dim]")  # fmt: skip
            while True:
                line = await asyncio.to_thread(sys.stdin.readline)
                if not line:
                    break
                if line.strip():
                    await _post(client, name, line.rstrip("\n"))
            await asyncio.sleep(0.5)  # let the last answers arrive before leaving
        finally:
            poller.cancel()


async def _post(client: httpx.AsyncClient, name: str, text: str, *, if_new: bool = False) -> None:
    body = {"as": name, "text": text, "id": uuid.uuid4().hex, "if_new": if_new}
    response = await client.post("/console/messages", json=body)
    if response.status_code != 200:
        console.print(f"[red]the service answered {response.status_code}[/red]")


async def _print_incoming(client: httpx.AsyncClient, name: str) -> None:
    while True:
        try:
            response = await client.get("/console/poll", params={"as": name, "wait": 20})
            for message in response.json().get("messages", []):
                console.print(f"[bold magenta]Peerline:[/bold magenta] {message}")
                sys.stdout.flush()
        except httpx.HTTPError:
            await asyncio.sleep(1)
