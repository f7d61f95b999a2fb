"""Configuration from environment variables and an optional `.env` file."""

import hashlib
import hmac
import os
import re
import secrets
import stat
import sys
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as PydanticSettingsError

from flows.conversation.reach import parse_span
from flows.supporters.profile_changes import REAPPROVABLE

LANGUAGES = ("en", "pl", "uk", "ru", "fa", "ar")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///peerline.db"
DEFAULT_KEY_FILE = "peerline.key"


class SettingsError(Exception):
    """A setting is wrong or missing; the message says what to change, in one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str | None = None
    key_file: Path = Path(DEFAULT_KEY_FILE)
    host: str = "127.0.0.1"
    port: int = 8080
    telegram_bot_token: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    telegram_webhook_secret: str | None = None
    public_url: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_whatsapp_from: str | None = None
    twilio_api_base_url: str | None = None
    default_language: str = "en"
    timezone: str = "Europe/Warsaw"
    # Outbox pacing: Telegram allows about 30 messages/s per bot and 1/s per chat.
    telegram_rate_per_second: float = 30.0
    telegram_chat_rate_per_second: float = 1.0
    whatsapp_rate_per_second: float = 10.0
    outbox_lease_seconds: float = 30.0
    # One sender per channel sends at a time (so pacing holds across workers); another takes
    # over this long after it went silent.
    outbox_sender_lease_seconds: float = 10.0
    scheduler_tick_seconds: float = 5.0
    # Telegram: "auto" polls without PUBLIC_URL and uses the webhook with it.
    telegram_mode: Literal["auto", "webhook", "polling"] = "auto"
    # The web edge: bodies above this are refused with 413 before they are parsed.
    max_body_bytes: int = 1_000_000
    # Inbound updates are committed before they are acknowledged, then processed in lanes:
    # lanes one process works on at once, and how long a lane stays with a silent process.
    inbound_concurrency: int = 8
    inbound_lease_seconds: float = 30.0
    # Media fetched from one channel to be uploaded to the other (voice notes) up to this size.
    media_max_bytes: int = 16_000_000
    # WhatsApp: approved templates for messages outside the 24-hour window (check-ins and
    # campaigns), one default and optionally one per language; quick-reply content templates
    # by number of buttons ({"2": "HX...", "3": "HX..."}).
    twilio_template_sid: str | None = None
    twilio_template_sids: dict[str, str] = {}
    twilio_quick_reply_sids: dict[str, str] = {}
    whatsapp_window_hours: float = 24.0
    # Matching and conversations.
    offer_top_k: int = 3  # supporters offered a request at once
    offer_timeout_minutes: float = 10.0
    coordinator_alert_after_minutes: float = 20.0  # no match by then: a coordinator is told
    request_expiry_hours: float = 48.0
    idle_check_after_hours: float = 24.0  # a quiet conversation is asked whether to go on
    idle_close_after_hours: float = 24.0  # ...and closed if nobody answers
    # Supporter care: at most this many new conversations a week each (0: no limit), and a
    # weekly "how are you?" to everyone who supported someone that week.
    supporter_weekly_cap: int = 10
    supporter_weekly_checkin: bool = True
    # What a supporter changes in her profile after approval that waits for a coordinator's OK
    # (any of languages, topics, capacity, hours; "none": all apply at once). Taking on less
    # never waits.
    profile_reapproval: str = "languages,topics"
    invite_valid_hours: float = 72.0
    # Care over time: check-ins for the women who asked for help, in the hours she may be
    # written to first (her time; she can change them or say "never"), and news while she waits.
    checkin_after_end_hours: float = 24.0
    checkin_after_referral_hours: list[float] = [2.0, 48.0]
    reach_hours: str = "09:00-21:00"
    waiting_update_minutes: float = 30.0
    coordinator_reminder_minutes: float = 120.0  # a request still waiting: reminded again
    talk_reminder_minutes: float = 15.0  # a supporter's wish to talk not taken: reminded again
    mask_contact_details: bool = True  # phone numbers, e-mails, @names in relayed text
    # DISCREET=true: a neutral bot description and command menu, for deployments where the
    # bot's own name and menu on her phone must not say what it is for.
    discreet: bool = False
    # Safety.
    flood_max_messages: int = 8
    # Danger screening: the sentence model beside the lexicons; false screens with lexicons only.
    screen_model: bool = True
    # An update waits at most this long for the model (a burst on a busy core); then lexicons only.
    screen_model_wait_seconds: float = 3.0
    flood_window_seconds: float = 10.0
    retention_days: int = 90
    # Beyond conversations (days; 0 keeps for ever): silent participants erased as by /forget,
    # guard marks, blocks between two people, audit lines, flow states nobody has touched.
    inactive_erase_days: int = 180
    guard_mark_days: int = 30
    block_days: int = 365
    audit_days: int = 730
    flow_state_days: int = 30
    help_country: str = "PL"
    telegram_bot_username: str | None = None  # for invite deep links t.me/<name>?start=<code>
    # Operations: log verbosity and shape (one JSON object a line for a log collector); the
    # worker's own port for /livez, /readyz and /metrics (0 turns it off).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    worker_port: int = 8081

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("is not an IANA time zone such as Europe/Warsaw") from exc
        return value

    @field_validator("profile_reapproval")
    @classmethod
    def _reapproval_fields(cls, value: str) -> str:
        words = {w.strip().casefold() for w in value.split(",") if w.strip()} - {"none"}
        if unknown := words - set(REAPPROVABLE):
            raise ValueError(
                f"{', '.join(sorted(unknown))} unknown: choose from {', '.join(REAPPROVABLE)} "
                "or none"
            )
        return ",".join(sorted(words))

    @field_validator("reach_hours")
    @classmethod
    def _hours_span(cls, value: str) -> str:
        if parse_span(value) is None:
            raise ValueError("must be two times like 09:00-21:00")
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _server_root(cls, value: str) -> str:
        """The server root; PTB's own `…/bot` form (its base_url) is accepted and trimmed."""
        return value.strip().rstrip("/").removesuffix("/bot").rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith(("postgres://", "postgresql://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite://"):
            return "sqlite+aiosqlite://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> "Settings":
        if self.env == "production" and not self.secret_key:
            raise ValueError(
                "SECRET_KEY is not set: run `peerline keygen` and put the key in SECRET_KEY"
            )
        if bool(self.twilio_account_sid) != bool(self.twilio_auth_token):
            raise ValueError("set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or neither")
        if self.telegram_mode == "webhook" and not self.public_url:
            raise ValueError("TELEGRAM_MODE=webhook needs PUBLIC_URL, the address Telegram calls")
        if self.twilio_account_sid and not self.twilio_whatsapp_from:
            raise ValueError("TWILIO_WHATSAPP_FROM is not set: the WhatsApp sender number")
        return self

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(self.twilio_account_sid)

    @property
    def telegram_webhook(self) -> bool:
        if self.telegram_mode == "auto":
            return bool(self.public_url)
        return self.telegram_mode == "webhook"

    def telegram_secret(self) -> str:
        """The webhook secret: configured, or derived from SECRET_KEY so every process agrees."""
        if self.telegram_webhook_secret:
            return self.telegram_webhook_secret
        digest = hmac.new(
            self.resolved_secret_key().encode(), b"telegram-webhook", hashlib.sha256
        ).hexdigest()
        return digest[:48]

    def resolved_secret_key(self) -> str:
        """The configured key, or in development one generated once into a 0600 key file."""
        if self.secret_key:
            return self.secret_key
        if self.key_file.exists():
            mode = stat.S_IMODE(self.key_file.stat().st_mode)
            if mode & 0o077:
                raise SettingsError(
                    f"KEY_FILE {self.key_file} can be read by others (mode {mode:04o}): "
                    f"run `chmod 600 {self.key_file}`"
                )
            return self.key_file.read_text().strip()
        key = secrets.token_urlsafe(32)
        fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
        os.chmod(self.key_file, stat.S_IRUSR | stat.S_IWUSR)
        print(
            f"warning: SECRET_KEY is not set; generated one into {self.key_file} (mode 0600). "
            "Keep it: without it stored addresses cannot be read. Set SECRET_KEY in production.",
            file=sys.stderr,
        )
        return key


def load_settings(**overrides: object) -> Settings:
    """Load settings, turning a validation error into one line that says what to change."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except PydanticSettingsError as exc:  # a value that is not the JSON it must be
        cause = str(exc.__cause__ or exc).splitlines()[0]
        field = re.search(r'field "(\w+)"', str(exc))
        name = field.group(1).upper() if field else "a setting"
        raise SettingsError(
            f'{name} is not valid JSON ({cause}): write it like {{"2": "HX…"}}'
        ) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]).upper()
        message = first["msg"].removeprefix("Value error, ")
        where = f"{field} " if field else ""
        raise SettingsError(f"{where}{message}".strip()) from None
