"""How every `peerline` process logs and runs its event loop: LOG_LEVEL, LOG_FORMAT, uvloop."""

import asyncio
import json
import logging
import re
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")
# A Bot API token (digits, a colon, 35 URL-safe characters), wherever a library puts it.
TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
QUIET = ("httpx", "httpcore", "apscheduler", "uvicorn.access", "telegram.ext", "twilio")


class RedactTokens(logging.Filter):
    """No log line carries a bot token, even one a library wrote into a URL or an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if TOKEN.search(message):
            record.msg, record.args = TOKEN.sub("<token>", message), None
        if record.exc_info and record.exc_info[1] and TOKEN.search(str(record.exc_info[1])):
            record.exc_info, record.exc_text = None, None  # the trace would repeat it
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for a log collector."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", form: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactTokens())
    if form == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in QUIET:  # request lines would name the Bot API URL, token included
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run the process's main coroutine on uvloop."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
