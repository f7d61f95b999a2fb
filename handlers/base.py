"""The contract every channel fulfils, and the typed errors the outbox sender acts on."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from flows.events import MediaRef

# The error noted on a row that waits for her to write again (WhatsApp's 24-hour window).
WAITING_FOR_WINDOW = "waiting for her window"


@dataclass(frozen=True)
class RenderedButton:
    label: str
    choice: str
    url: str | None = None


@dataclass(frozen=True)
class RenderedMessage:
    """A message already in the recipient's language; the channel only lays it out."""

    text: str
    buttons: tuple[RenderedButton, ...] = ()
    media: MediaRef | None = None
    language: str = "en"
    kind: str = "reply"
    reply_to: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


class ChannelStartError(Exception):
    """A channel could not start; the message says what to change, in one line, no secrets."""


class DeliveryError(Exception):
    """A send that did not go through; the subclass says what the outbox should do."""

    code = "error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail


class RetryLater(DeliveryError):
    """The API asked us to slow down (Telegram 429 retry_after, Twilio 20429)."""

    code = "rate_limited"

    def __init__(self, delay: float, detail: str = "") -> None:
        super().__init__(detail)
        self.delay = max(0.0, delay)


class TemporaryFailure(DeliveryError):
    """A 5xx or network fault: retried with back-off."""

    code = "temporary"


class RecipientUnreachable(DeliveryError):
    """She blocked the bot, deleted her account or opted out: she is marked stopped."""

    code = "unreachable"


class OutsideWindow(DeliveryError):
    """WhatsApp's 24-hour window is closed: the message waits until she writes again."""

    code = "outside_window"


class PermanentFailure(DeliveryError):
    """The request itself is wrong (chat not found, bad media); retrying would not help."""

    code = "permanent"


@dataclass(frozen=True)
class SentMessage:
    channel_message_id: str | None = None


class Channel(Protocol):
    name: str

    async def send(self, address: str, message: RenderedMessage) -> SentMessage:
        """Deliver one message or raise a DeliveryError subclass."""
        ...


def split_text(
    text: str,
    limit: int,
    *,
    length: Callable[[str], int] = len,
    fit: Callable[[str, int], int] | None = None,
) -> list[str]:
    """Split at paragraph, line or word boundaries so each part's `length` stays within `limit`.

    `fit(text, limit)` gives the longest prefix (in characters) that fits, for channels that
    count length in other units (Telegram counts UTF-16 code units).
    """
    parts: list[str] = []
    rest = text
    while length(rest) > limit:
        cut = fit(rest, limit) if fit else limit
        for separator in ("\n\n", "\n", " "):
            at = rest.rfind(separator, 0, cut)
            if at > cut // 2:
                cut = at
                break
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts
