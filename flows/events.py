"""What arrives from any channel, and what the core asks a channel to send."""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# Channels that draw no buttons: a typed "2" or the button's words stand for the second choice.
TEXT_ONLY_CHANNELS = frozenset({"console", "whatsapp"})
# Channels whose sent messages the bot can edit: a pressed keyboard is replaced by her choice.
EDITING_CHANNELS = frozenset({"telegram"})
# The data of the inert "✓ her choice" button left where a keyboard was; pressing it does nothing.
CHOSEN = "noop"
# Rows of this kind still reach a banned person (her one neutral line) or an erased one (her last).
NOTICE_KIND = "notice"


class EventKind(StrEnum):
    TEXT = "text"
    COMMAND = "command"
    CHOICE = "choice"  # a button pressed, or a numbered choice typed on a text-only channel
    MEDIA = "media"
    EDIT = "edit"  # she edited an earlier message
    UNSUPPORTED = "unsupported"  # something we cannot use (a dice, a poll); she is told so
    BLOCKED = "blocked"  # she blocked the bot or opted out
    UNBLOCKED = "unblocked"


@dataclass(frozen=True)
class MediaRef:
    """A piece of media by the channel's own reference; never downloaded into the database."""

    kind: str  # voice, photo, video, document, sticker, audio, animation, video_note, location
    ref: str  # Telegram file_id or a Twilio media URL
    mime_type: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class InboundEvent:
    channel: str
    address: str  # chat id or phone number: used to find her, never stored in clear or logged
    kind: EventKind
    message_id: str | None = None  # the channel's id of this delivery, for idempotency
    text: str = ""
    command: str | None = None  # without the slash, lower case
    args: str = ""
    choice: str | None = None
    media: MediaRef | None = None
    reply_to: str | None = None  # channel message id she replied to
    edited_message_id: str | None = None
    chat_message_id: str | None = None  # her message's id in the chat (for replies, quick exit)
    language_hint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # keeps addresses and words out of logs and tracebacks
        return f"InboundEvent(channel={self.channel!r}, kind={self.kind.value!r})"


@dataclass(frozen=True)
class Button:
    """A choice shown as a button, or as a numbered line where buttons cannot be drawn."""

    text_id: str
    choice: str
    params: dict[str, Any] = field(default_factory=dict)
    url: str | None = None  # e.g. tel:112 — opens something instead of answering

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"t": self.text_id, "c": self.choice}
        if self.params:
            data["p"] = self.params
        if self.url:
            data["u"] = self.url
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Button":
        return cls(data["t"], data["c"], data.get("p") or {}, data.get("u"))


@dataclass(frozen=True)
class OutboundMessage:
    """A message by text id and parameters; rendered in the recipient's language at send time.

    A parameter that is itself a text id is written as {"msgid": "topic.housing"}.
    """

    text_id: str
    params: dict[str, Any] = field(default_factory=dict)
    buttons: tuple[Button, ...] = ()
    media: MediaRef | None = None
    kind: str = "reply"  # reply, relay, alert, checkin, broadcast
    reply_to: str | None = None

    def __repr__(self) -> str:
        return f"OutboundMessage(text_id={self.text_id!r}, kind={self.kind!r})"


def msgid(text_id: str) -> dict[str, str]:
    """Mark a parameter as a text id to translate, e.g. a topic name inside a sentence."""
    return {"msgid": text_id}


def msgids(*text_ids: str) -> dict[str, list[str]]:
    """A parameter that is a list of text ids, each translated, joined the language's way."""
    return {"msgids": list(text_ids)}
