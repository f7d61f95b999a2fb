"""Settings fail in one line that says what to change; every command has help; keys are private."""

import os
import stat
import subprocess
import sys

import pytest

from bot.privacy import AddressVault
from bot.settings import Settings, SettingsError, load_settings

PEERLINE = [sys.executable, "-m", "bot.cli"]


def test_production_without_a_secret_key_is_refused():
    with pytest.raises(SettingsError, match="SECRET_KEY is not set: run `peerline keygen`"):
        load_settings(_env_file=None, env="production")


def test_a_wrong_setting_is_reported_in_one_line_naming_it():
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, default_language="xx")
    message = str(caught.value)
    assert "DEFAULT_LANGUAGE" in message and "\n" not in message


def test_a_postgres_url_gets_the_async_driver():
    settings = Settings(_env_file=None, database_url="postgresql://u@h/db")
    assert settings.database_url == "postgresql+asyncpg://u@h/db"


def test_the_development_key_is_generated_once_into_a_private_file(tmp_path, capsys):
    settings = Settings(_env_file=None, key_file=tmp_path / "peerline.key")
    first = settings.resolved_secret_key()
    assert "warning: SECRET_KEY is not set" in capsys.readouterr().err
    assert stat.S_IMODE(os.stat(tmp_path / "peerline.key").st_mode) == 0o600
    assert settings.resolved_secret_key() == first


def test_addresses_encrypt_and_hash_with_the_key():
    vault = AddressVault("k1")
    blob = vault.encrypt("telegram", "12345")
    assert vault.decrypt("telegram", blob) == "12345"
    assert vault.lookup_hash("telegram", "12345") == AddressVault("k1").lookup_hash(
        "telegram", "12345"
    )
    assert vault.lookup_hash("telegram", "12345") != AddressVault("k2").lookup_hash(
        "telegram", "12345"
    )
    assert vault.lookup_hash("telegram", "12345") != vault.lookup_hash("whatsapp", "12345")


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "TWILIO"))}
    environment.update(env)
    return subprocess.run(
        [*PEERLINE, *args], capture_output=True, text=True, env=environment, timeout=60
    )


@pytest.mark.parametrize("command", ["run", "worker", "migrate", "chat", "keygen"])
def test_every_command_has_help(command):
    result = run_cli(command, "--help")
    assert result.returncode == 0
    assert "Usage" in result.stdout


def test_keygen_prints_a_fresh_key():
    first, second = run_cli("keygen").stdout.strip(), run_cli("keygen").stdout.strip()
    assert len(first) >= 40 and first != second


def test_a_bad_setting_stops_the_command_with_one_line(tmp_path):
    result = run_cli("migrate", DEFAULT_LANGUAGE="xx", DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("error: DEFAULT_LANGUAGE")


def test_migrate_creates_the_database(tmp_path):
    result = run_cli("migrate", DATABASE_URL=f"sqlite:///{tmp_path}/x.db", SECRET_KEY="k")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "x.db").exists()
