"""`peerline doctor`: every part a deployment needs, checked from outside, one line each.

Each finding says what is wrong and what to change, so an operator never reads a traceback.
"""

import io
import stat
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy import text
from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from bot.migrate import alembic_config
from bot.settings import LANGUAGES, Settings
from flows.safety.layered import DangerScreen
from handlers.telegram.channel import WEBHOOK_PATH
from i18n import CATALOG_DIR
from models.db import make_engine

TWILIO_API = "https://api.twilio.com"


@dataclass(frozen=True)
class Finding:
    part: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.part}: {self.detail}"


async def diagnose(
    settings: Settings, *, catalogs: Path = CATALOG_DIR, screen: Any = None
) -> list[Finding]:
    """Run every check; one that raises is itself a finding, never a crash."""
    checks: list[tuple[str, Callable[[], Awaitable[str]]]] = [
        ("key", lambda: _key(settings)),
        ("database", lambda: _database(settings)),
        ("catalogs", lambda: _catalogs(catalogs)),
        ("screening", lambda: _screening(screen)),
    ]
    if settings.telegram_enabled:
        checks.append(("telegram", lambda: _telegram(settings)))
    if settings.whatsapp_enabled:
        checks.append(("twilio", lambda: _twilio(settings)))
    findings = []
    for part, check in checks:
        try:
            findings.append(Finding(part, True, await check()))
        except Problem as problem:
            findings.append(Finding(part, False, str(problem)))
        except Exception as error:  # a check we did not foresee: still one line
            findings.append(Finding(part, False, f"could not be checked ({type(error).__name__})"))
    return findings


class Problem(Exception):
    """What is wrong and what to change, in one line."""


def screen_of(settings: Settings) -> Any:
    """The danger screen this deployment would load: lexicons and, unless switched off, a model."""
    return DangerScreen(use_model=settings.screen_model)


async def _key(settings: Settings) -> str:
    if settings.secret_key:
        return "SECRET_KEY is set"
    path = settings.key_file
    if not path.exists():
        raise Problem(f"no SECRET_KEY and no {path}: run `peerline keygen`, set SECRET_KEY")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise Problem(f"{path} can be read by others (mode {mode:04o}): run `chmod 600 {path}`")
    return f"{path} (mode {mode:04o}); set SECRET_KEY in production"


async def _database(settings: Settings) -> str:
    engine = make_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            current = await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    except Exception as error:
        raise Problem(
            f"cannot reach DATABASE_URL ({type(error).__name__}): check the URL and the server"
        ) from None
    finally:
        await engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(settings.database_url)).get_current_head()
    if current != head:
        raise Problem(
            f"schema at {current or 'nothing'}, code needs {head}: run `peerline migrate`"
        )
    return f"reachable, schema at head ({head})"


async def _catalogs(directory: Path) -> str:
    """Every language's catalog is there, readable and complete; it is compiled when first used."""
    problems = _catalog_problems(directory)
    if problems:
        raise Problem(f"{'; '.join(problems)}: run `make i18n` and translate what it lists")
    return f"complete for {', '.join(LANGUAGES)}"


def _catalog_problems(directory: Path) -> list[str]:
    problems = []
    for language in LANGUAGES:
        source = directory / language / "LC_MESSAGES" / "messages.po"
        try:
            with open(source, "rb") as handle:
                catalog = read_po(handle, locale=language)
            write_mo(io.BytesIO(), catalog)
        except FileNotFoundError:
            problems.append(f"no catalog for {language}")
            continue
        except Exception as error:  # a broken file must be a line here, not a traceback
            problems.append(f"the {language} catalog cannot be read ({type(error).__name__})")
            continue
        gaps = sum(1 for m in catalog if m.id and (m.fuzzy or not _translated(m.string)))
        if gaps:
            problems.append(f"{gaps} texts untranslated or fuzzy in {language}")
    return problems


def _translated(text: str | tuple[str, ...]) -> bool:
    return all(part.strip() for part in ((text,) if isinstance(text, str) else text))


async def _screening(screen: Any) -> str:
    if screen is None:
        return "lexicons (this build has no sentence model)"
    status = screen.load()
    if not status.loaded:
        raise Problem(f"the sentence model is not loaded ({status.detail}): lexicons only")
    return f"lexicons and {status.detail}"


async def _telegram(settings: Settings) -> str:
    base = settings.telegram_api_base_url
    bot = Bot(settings.telegram_bot_token or "", base_url=f"{base}/bot")
    try:
        async with bot:
            me = await bot.get_me()
            webhook = await bot.get_webhook_info()
    except InvalidToken:
        raise Problem("the Bot API refused the token (401): check TELEGRAM_BOT_TOKEN") from None
    except TelegramError as error:
        raise Problem(
            f"the Bot API at {base} did not answer ({type(error).__name__}): "
            "check TELEGRAM_API_BASE_URL and the network"
        ) from None
    expected = (settings.public_url or "").rstrip("/") + WEBHOOK_PATH
    if settings.telegram_webhook and webhook.url != expected:
        raise Problem(f"the webhook is {webhook.url or 'not set'}: start `peerline run` to set it")
    if not settings.telegram_webhook and webhook.url:
        raise Problem("a webhook is set but this deployment polls: set PUBLIC_URL, or start once")
    if webhook.last_error_message:
        raise Problem(f"Telegram's last webhook error: {webhook.last_error_message[:120]}")
    return f"@{me.username}, {'webhook' if settings.telegram_webhook else 'polling'}"


async def _twilio(settings: Settings) -> str:
    base = (settings.twilio_api_base_url or TWILIO_API).rstrip("/")
    sid = settings.twilio_account_sid or ""
    try:
        async with httpx.AsyncClient(timeout=15) as client:
            response = await client.get(
                f"{base}/2010-04-01/Accounts/{sid}.json",
                auth=(sid, settings.twilio_auth_token or ""),
            )
    except httpx.HTTPError as error:
        problem = f"Twilio's API did not answer ({type(error).__name__}): check the network"
        raise Problem(problem) from None
    if response.status_code in (401, 403):
        raise Problem(
            "Twilio refused the credentials: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
        )
    if response.status_code != 200:
        raise Problem(f"Twilio answered {response.status_code}: check TWILIO_ACCOUNT_SID")
    return f"account {sid[:6]}… accepted the credentials"
