"""Twilio's WhatsApp webhook form to one `InboundEvent`, and status callbacks to a delivery update.

The address is the sender's number (or business-scoped id) without the "whatsapp:" prefix; it
is only ever stored encrypted.
"""

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from flows.events import EventKind, InboundEvent, MediaRef

NAME = "whatsapp"
PREFIX = "whatsapp:"
# Opt-out keywords; only the bare word counts. "end" or "cancel" are not among them: she may
# say those to end a conversation, which must not silence the bot for good.
OPT_OUT_WORDS = frozenset({"stop", "stopall", "unsubscribe"})
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:\s+(.*))?$", re.S)
# Shapes Twilio gives these fields. Its signature does not separate fields, so a signed form can
# be re-split into another one; a form whose fields have other shapes is refused.
MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-f]{32}$")
ACCOUNT_SID = re.compile(r"^AC[0-9a-f]{32}$")
# whatsapp:+E.164, or a business-scoped user id such as whatsapp:US.1234.
WHATSAPP_FROM = re.compile(r"^whatsapp:(\+[1-9][0-9]{6,14}|[A-Z]{2}\.[0-9A-Za-z_.-]{1,64})$")
STATUS_RANK = {"queued": 0, "accepted": 0, "sending": 1, "sent": 1, "delivered": 2, "read": 3}
FAILED_STATUSES = frozenset({"failed", "undelivered"})


class NotAMessage(ValueError):
    """The form lacks what every inbound message has (MessageSid, From)."""


def unusable_form(form: Mapping[str, str], account_sid: str | None, *, inbound: bool) -> str | None:
    """Why a signed form is refused: a field whose shape Twilio never sends, or another account.

    Inbound messages need all three fields; a status callback, only a well-formed MessageSid
    (and, when present, our AccountSid).
    """
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid") or ""
    if not MESSAGE_SID.match(sid):
        return "MessageSid is not a Twilio message id"
    account = form.get("AccountSid")
    if inbound or account is not None:
        if not (account and ACCOUNT_SID.match(account)):
            return "AccountSid is not a Twilio account id"
        if account_sid is not None and account != account_sid:
            return "AccountSid is not this service's account"
    if inbound and not WHATSAPP_FROM.match(form.get("From") or ""):
        return "From is not a WhatsApp address"
    return None


def address_of(value: str) -> str:
    return value.strip().removeprefix(PREFIX).strip()


def _ascii_digits(text: str) -> str:
    """ "۲" or "٢" typed on a Persian or Arabic keyboard is the choice "2"."""
    stripped = text.strip()
    if stripped and all(unicodedata.category(c) == "Nd" for c in stripped):
        return str(int("".join(str(unicodedata.digit(c)) for c in stripped)))
    return text


def media_kind(content_type: str) -> str:
    content_type = content_type.lower()
    if content_type.startswith("audio/"):
        return "voice" if "ogg" in content_type or "opus" in content_type else "audio"
    if content_type == "image/webp":
        return "sticker"
    if content_type.startswith("image/"):
        return "photo"
    if content_type.startswith("video/"):
        return "video"
    return "document"


def parse_inbound(form: Mapping[str, str]) -> InboundEvent:
    """One inbound message; raises NotAMessage for a form that is not one."""
    sid = (form.get("MessageSid") or form.get("SmsMessageSid") or "").strip()
    sender = address_of(form.get("From") or "")
    if not sid or not sender:
        raise NotAMessage("MessageSid and From are required")
    # No chat_message_id: WhatsApp lets no one delete or edit her messages through the bot.
    common = {"channel": NAME, "address": sender, "message_id": sid}
    body = form.get("Body") or ""
    if (form.get("OptOutType") or "").upper() == "STOP" or body.strip().casefold() in OPT_OUT_WORDS:
        return InboundEvent(kind=EventKind.BLOCKED, **common)
    payload = (form.get("ButtonPayload") or "").strip()
    if payload:  # a quick-reply button of a content template: its id is our choice
        return InboundEvent(kind=EventKind.CHOICE, choice=payload, text=body, **common)
    try:
        count = int(form.get("NumMedia") or 0)
    except ValueError:
        count = 0
    if count > 0 and form.get("MediaUrl0"):
        content_type = form.get("MediaContentType0") or ""
        media = MediaRef(media_kind(content_type), form["MediaUrl0"], content_type or None)
        extra = {"media_count": count} if count > 1 else {}
        return InboundEvent(kind=EventKind.MEDIA, text=body, media=media, extra=extra, **common)
    if form.get("Latitude") or form.get("Longitude"):
        return InboundEvent(kind=EventKind.UNSUPPORTED, extra={"what": "location"}, **common)
    button_text = (form.get("ButtonText") or "").strip()
    text = button_text or body  # a tapped reply button is read as its words
    if not text.strip():
        return InboundEvent(kind=EventKind.UNSUPPORTED, extra={"what": "empty"}, **common)
    command = _COMMAND.match(text.strip())
    if command is not None:  # "/exit" works here as on Telegram
        name, args = command.group(1).lower(), (command.group(2) or "").strip()
        return InboundEvent(kind=EventKind.COMMAND, text=text, command=name, args=args, **common)
    return InboundEvent(kind=EventKind.TEXT, text=_ascii_digits(text), **common)


@dataclass(frozen=True)
class StatusUpdate:
    message_sid: str
    status: str  # queued, sent, delivered, read, failed, undelivered, or something new
    error_code: int | None
    recipient: str | None  # the number it went to, when Twilio says

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES


def parse_status(form: Mapping[str, str]) -> StatusUpdate | None:
    """A status callback, or None when the form carries none (it is then ignored)."""
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not sid or not status:
        return None
    try:
        code = int(form["ErrorCode"]) if form.get("ErrorCode") else None
    except ValueError:
        code = None
    recipient = address_of(form["To"]) if form.get("To") else None
    return StatusUpdate(sid, status, code, recipient)
