"""`peerline doctor` on a healthy and on a broken deployment: each problem one line, with a fix."""

import asyncio
import os
import shutil
import sys
from pathlib import Path

from bot import migrate
from bot.doctor import diagnose
from i18n import CATALOG_DIR
from models.db import make_engine
from tests.channel_support import telegram_settings, twilio_settings
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.support import make_settings

PEERLINE = str(Path(sys.executable).parent / "peerline")


async def migrated(url: str) -> None:
    engine = make_engine(url)
    await migrate.upgrade(engine)
    await engine.dispose()


def copied_catalogs(tmp_path: Path, *, drop: str | None = None) -> Path:
    target = tmp_path / "i18n"
    shutil.copytree(CATALOG_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    if drop:
        (target / drop / "LC_MESSAGES" / "messages.po").unlink()
    return target


async def test_a_healthy_deployment_passes_every_check(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/doctor.db"
    await migrated(url)
    async with FakeBotAPI() as api, FakeTwilioAPI() as tw:
        settings = make_settings(url, **telegram_settings(api), **twilio_settings(tw))
        findings = await diagnose(settings, catalogs=copied_catalogs(tmp_path))
    assert [f.part for f in findings] == [
        "key", "database", "catalogs", "screening", "telegram", "twilio",
    ]  # fmt: skip
    assert all(f.ok for f in findings), [f.line() for f in findings]


async def test_a_broken_deployment_says_each_problem_in_one_line(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/doctor.db"  # never migrated
    key = tmp_path / "peerline.key"
    key.write_text("dev-key\n")
    key.chmod(0o644)
    async with FakeBotAPI() as api, FakeTwilioAPI() as tw:
        settings = make_settings(
            url, secret_key=None, key_file=key,
            telegram_bot_token="111:wrongwrongwrongwrongwrongwrongwrong",
            telegram_api_base_url=api.base_url,
            twilio_account_sid=tw.account_sid, twilio_auth_token="not-it",
            twilio_whatsapp_from="+14155238886", twilio_api_base_url=tw.base_url,
        )  # fmt: skip
        findings = await diagnose(settings, catalogs=copied_catalogs(tmp_path, drop="fa"))
    lines = {f.part: f.line() for f in findings}
    assert lines["key"] == f"FAIL key: {key} can be read by others (mode 0644): " + (
        f"run `chmod 600 {key}`"
    )
    assert lines["database"].startswith("FAIL database: schema at nothing, code needs ")
    assert lines["database"].endswith("run `peerline migrate`")
    assert lines["catalogs"].startswith("FAIL catalogs: no catalog for fa: run `make i18n`")
    assert lines["telegram"] == (
        "FAIL telegram: the Bot API refused the token (401): check TELEGRAM_BOT_TOKEN"
    )
    assert lines["twilio"].startswith("FAIL twilio: Twilio refused the credentials")
    assert all("\n" not in line for line in lines.values())


async def test_the_command_exits_non_zero_with_one_line_per_check(tmp_path):
    key = tmp_path / "peerline.key"
    key.write_text("dev-key\n")
    key.chmod(0o644)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "TWILIO"))}
    env.pop("SECRET_KEY", None)
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/d.db", KEY_FILE=str(key))
    process = await asyncio.create_subprocess_exec(
        PEERLINE, "doctor", env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    lines = out.decode().splitlines()
    assert process.returncode == 1
    assert [line.split(":")[0] for line in lines] == [
        "FAIL key", "FAIL database", "ok   catalogs", "ok   screening",
    ]  # fmt: skip
    assert b"Traceback" not in err
