"""Start-up problems an operator meets, each one line that says what to change, no secret in it."""

import asyncio
import logging
import os
import socket
import sys
import time
from pathlib import Path

import pexpect
import pytest
import uvloop

from bot import runtime
from bot.runtime import RedactTokens
from bot.settings import Settings, SettingsError, load_settings
from tests.fakes.telegram_api import FakeBotAPI

PEERLINE = str(Path(sys.executable).parent / "peerline")
WRONG_TOKEN = "987654321:AAwrongwrongwrongwrongwrongwrongwrong"


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "TWILIO"))}
    for name in ("PUBLIC_URL", "ENV", "SECRET_KEY", "DATABASE_URL", "HOST", "PORT"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/peerline.db",
        KEY_FILE=str(tmp_path / "peerline.key"),
        PORT="0",
        NO_COLOR="1",
        LOG_LEVEL="WARNING",  # start-up's own INFO lines are not what is checked
    )
    env.update(extra)
    return env


async def peerline(tmp_path: Path, *args: str, **extra: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        PEERLINE, *args, env=environment(tmp_path, **extra), cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode is not None
    return process.returncode, err.decode()


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


async def test_a_refused_token_is_one_line_and_never_printed(tmp_path):
    async with FakeBotAPI() as api:
        code, err = await peerline(
            tmp_path, "run", "--no-migrate", SECRET_KEY="k", TELEGRAM_BOT_TOKEN=WRONG_TOKEN,
            TELEGRAM_API_BASE_URL=api.base_url,  # PTB's own ".../bot" form is accepted
        )  # fmt: skip
    line = one_line(err)
    assert code == 2
    assert line == "error: the Bot API refused the token (401): check TELEGRAM_BOT_TOKEN"
    assert WRONG_TOKEN.split(":")[1] not in err


async def test_a_taken_port_is_one_line(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        port = str(taken.getsockname()[1])
        code, err = await peerline(tmp_path, "run", "--no-migrate", PORT=port, SECRET_KEY="k")
    finally:
        taken.close()
    assert code == 2
    assert one_line(err).startswith(f"error: port {port} on 127.0.0.1 is taken")


async def test_chat_without_a_server_is_one_line(tmp_path):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    code, err = await peerline(tmp_path, "chat", "--url", f"http://127.0.0.1:{port}")
    assert code == 1
    assert one_line(err).startswith("error: no Peerline service answers at")


@pytest.mark.parametrize("name", ["TWILIO_TEMPLATE_SIDS", "TWILIO_QUICK_REPLY_SIDS"])
async def test_a_malformed_json_setting_is_one_line(tmp_path, name):
    code, err = await peerline(tmp_path, "migrate", **{name: "{'2': HX1"})
    assert code == 2
    assert one_line(err).startswith(f"error: {name} is not valid JSON")


async def test_a_key_file_readable_by_others_stops_start_up(tmp_path):
    key = tmp_path / "peerline.key"
    key.write_text("a-development-key\n")
    key.chmod(0o644)
    code, err = await peerline(tmp_path, "run", "--no-migrate")
    assert code == 2
    assert one_line(err) == f"error: KEY_FILE {key} can be read by others (mode 0644): " + (
        f"run `chmod 600 {key}`"
    )


async def test_the_console_refuses_a_public_edge_and_a_public_address(tmp_path):
    public = await peerline(tmp_path, "run", "--console", PUBLIC_URL="https://bot.example.org")
    wide = await peerline(tmp_path, "run", "--console", HOST="0.0.0.0")
    assert public[0] == wide[0] == 2
    assert "unset PUBLIC_URL" in one_line(public[1])
    assert "loopback only" in one_line(wide[1])


def test_ctrl_c_stops_the_console_at_once(tmp_path):
    child = pexpect.spawn(PEERLINE, ["run", "--console"], env=environment(tmp_path, TERM="dumb"),
                          cwd=str(tmp_path), encoding="utf-8", timeout=60)  # fmt: skip
    try:
        child.expect("Polski")
        started = time.monotonic()
        child.sendintr()
        child.expect(pexpect.EOF, timeout=10)
        took = time.monotonic() - started
    finally:
        child.close(force=True)
    assert took < 5, took
    assert "Traceback" not in (child.before or "")


def test_the_bot_api_url_is_accepted_in_both_forms():
    for url in ("http://127.0.0.1:8081", "http://127.0.0.1:8081/", "http://127.0.0.1:8081/bot"):
        assert Settings(_env_file=None, telegram_api_base_url=url).telegram_api_base_url == (
            "http://127.0.0.1:8081"
        )


def test_log_level_and_format_are_settings():
    settings = load_settings(_env_file=None, log_level="debug", log_format="JSON")
    assert (settings.log_level, settings.log_format) == ("DEBUG", "json")
    with pytest.raises(SettingsError, match="LOG_LEVEL"):
        load_settings(_env_file=None, log_level="loud")


def test_no_log_line_carries_a_token():
    record = logging.LogRecord(
        "httpx", logging.INFO, "", 0, "POST %s", ("https://x/bot" + WRONG_TOKEN + "/getMe",), None
    )
    RedactTokens().filter(record)
    assert WRONG_TOKEN not in record.getMessage() and "<token>" in record.getMessage()


def test_every_process_runs_on_uvloop():
    async def loop_type() -> type:
        return type(asyncio.get_running_loop())

    assert runtime.run(loop_type()) is uvloop.Loop


async def test_peerline_prints_its_version(tmp_path):
    process = await asyncio.create_subprocess_exec(
        PEERLINE, "--version", stdout=asyncio.subprocess.PIPE, env=environment(tmp_path)
    )
    out, _ = await process.communicate()
    assert process.returncode == 0 and out.decode().startswith("peerline ")
