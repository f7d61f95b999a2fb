"""The newcomer's path: `make run` chats in a terminal, a second joins, no address at rest."""

import os
import re
import sys
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parent.parent
PEERLINE = str(Path(sys.executable).parent / "peerline")


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "TWILIO"))}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/peerline.db",
        KEY_FILE=str(tmp_path / "peerline.key"),
        PORT="0",
        PYTHONUNBUFFERED="1",
        TERM="dumb",
        NO_COLOR="1",
        COLUMNS="200",
    )
    env.update(extra)
    return env


def test_make_run_greets_and_offers_a_language_choice(tmp_path):
    child = pexpect.spawn("make", ["-s", "-C", str(ROOT), "run"], env=clean_env(tmp_path),
                          encoding="utf-8", timeout=90)  # fmt: skip
    try:
        child.expect(r"listening on http://127\.0\.0\.1:(\d+)")
        child.expect("peerline chat --as supporter")
        child.expect("Polski")  # the languages, each named in itself, as numbered choices
        child.expect("العربية")
        child.sendline("1")
        child.expect("Peerline:")  # the answer to her choice
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


def test_a_console_conversation_leaves_no_plaintext_address_in_the_database(tmp_path):
    env = clean_env(tmp_path, SECRET_KEY="console-test-key")
    server = pexpect.spawn(
        PEERLINE, ["run", "--console", "--no-chat"], env=env, encoding="utf-8", timeout=60
    )
    try:
        server.expect(r"listening on (http://127\.0\.0\.1:\d+)")
        url = server.match.group(1)
        name = "amina-zx7731"
        chat = pexpect.spawn(PEERLINE, ["chat", "--as", name, "--url", url], env=env,
                             encoding="utf-8", timeout=60)  # fmt: skip
        chat.expect("Polski")
        chat.sendline("2")
        chat.expect("Peerline:")
        chat.sendline("hello, this is me")
        chat.expect("Peerline:")
        chat.sendeof()
        chat.expect(pexpect.EOF)
    finally:
        server.sendintr()
        server.expect(pexpect.EOF)
        server.close(force=True)
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("peerline.db*"))
    assert len(stored) > 10_000
    assert name.encode() not in stored
    assert re.search(rb"participants", stored)
