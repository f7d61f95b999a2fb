"""The baseline: a bare python-telegram-bot 22 echo bot, PTB's own custom-webhook pattern behind
Starlette/uvicorn (updates put on the application's queue), nothing written anywhere.

Run: python -m bench.bare_ptb PORT API_BASE TOKEN   (prints "ready" once it listens)
"""

import asyncio
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

PATH = "/telegram"


async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None and update.effective_message is not None
    await update.effective_chat.send_message(update.effective_message.text or "")


async def main(port: int, api_base: str, token: str) -> None:
    application = (
        Application.builder()
        .token(token)
        .base_url(f"{api_base}/bot")
        .base_file_url(f"{api_base}/file/bot")
        .updater(None)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))

    async def telegram(request: Request) -> Response:
        await application.update_queue.put(Update.de_json(await request.json(), application.bot))
        return Response()

    app = Starlette(routes=[Route(PATH, telegram, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    async with application:
        await application.start()
        serving = asyncio.create_task(server.serve())
        while True:
            if server.started:
                break
            await asyncio.sleep(0.01)
        print("ready", flush=True)
        await serving
        await application.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
