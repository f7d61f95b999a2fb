"""Telegram updates (as JSON) to one `InboundEvent` each, or to a polite non-event.

Parsing works on the raw JSON so that odd, old or partial bodies (no `from`, explicit nulls,
unknown update kinds) never crash anything: what cannot be used is ignored with a reason.
"""

import re
from dataclasses import dataclass
from typing import Any

from flows.events import CHOSEN, EventKind, InboundEvent, MediaRef

NAME = "telegram"

# The update kinds the bot asks Telegram for; everything else is answered 200 and dropped.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")

MEDIA_KINDS = ("voice", "photo", "video", "video_note", "animation", "audio", "document", "sticker")
UNSUPPORTED_KINDS = ("location", "venue", "contact", "dice", "poll", "web_app_data", "game")
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{3,64}))?(?:\s+(.*))?$", re.S)
PRIVATE = "private"


@dataclass(frozen=True)
class ParsedUpdate:
    """What to do with one update: an event for the router, and/or a small channel-level act."""

    event: InboundEvent | None = None
    callback_query_id: str | None = None  # always answered, even on old or foreign keyboards
    refuse_group: int | None = None  # a group chat id to decline politely (and leave)
    language: str | None = None
    reason: str = "handled"  # why nothing was done, for metrics

    @property
    def ignored(self) -> bool:
        return self.event is None and self.refuse_group is None


def _ignored(reason: str, **kwargs: Any) -> ParsedUpdate:
    return ParsedUpdate(reason=reason, **kwargs)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _language(sender: dict[str, Any]) -> str | None:
    code = sender.get("language_code")
    return code if isinstance(code, str) and code else None


def parse_update(data: dict[str, Any], bot_username: str | None = None) -> ParsedUpdate:
    """One update to one decision; never raises on a well-formed JSON object."""
    update_id = data.get("update_id")
    if not isinstance(update_id, int):
        return _ignored("no_update_id")
    message_id = f"u{update_id}"
    if isinstance(data.get("message"), dict):
        return _parse_message(data["message"], message_id, bot_username, edited=False)
    if isinstance(data.get("edited_message"), dict):
        return _parse_message(data["edited_message"], message_id, bot_username, edited=True)
    if isinstance(data.get("callback_query"), dict):
        return _parse_callback(data["callback_query"], message_id)
    if isinstance(data.get("my_chat_member"), dict):
        return _parse_member(data["my_chat_member"], message_id)
    return _ignored("not_for_us")  # channel posts, reactions, chat_member, unknown kinds


def _chat(message: dict[str, Any]) -> tuple[int | None, str]:
    chat = _dict(message.get("chat"))
    chat_id = chat.get("id")
    return (chat_id if isinstance(chat_id, int) else None), str(chat.get("type") or "")


def _parse_message(
    message: dict[str, Any], message_id: str, bot_username: str | None, *, edited: bool
) -> ParsedUpdate:
    chat_id, chat_type = _chat(message)
    sender = _dict(message.get("from"))
    language = _language(sender)
    if chat_id is None:
        return _ignored("no_chat")
    if chat_type != PRIVATE:
        if chat_type in ("group", "supergroup") and not edited:
            if _addresses_bot(message, bot_username):
                return ParsedUpdate(refuse_group=chat_id, language=language, reason="group")
        return _ignored("group")
    if sender.get("is_bot") is True:
        return _ignored("from_bot")
    common = {
        "channel": NAME,
        "address": str(chat_id),
        "message_id": message_id,
        "chat_message_id": str(message.get("message_id")) if "message_id" in message else None,
        "language_hint": language,
        "reply_to": _reply_to(message),
    }
    text = message.get("text") if isinstance(message.get("text"), str) else None
    caption = message.get("caption") if isinstance(message.get("caption"), str) else ""
    media = _media(message)
    if edited:
        if text is None and media is None:
            return _ignored("edit_without_text")  # e.g. a live location moving
        event = InboundEvent(
            kind=EventKind.EDIT,
            text=text if text is not None else caption,
            edited_message_id=common["chat_message_id"],
            **common,
        )
        return ParsedUpdate(event=event, language=language)
    forwarded = "forward_origin" in message or "forward_date" in message
    extra = {"forwarded": True} if forwarded else {}
    if media is not None:
        if message.get("media_group_id"):
            extra["album"] = True
        if _hides_links(message.get("caption_entities")):
            extra["hidden_links"] = True  # a copy would carry them past the contact mask
        event = InboundEvent(kind=EventKind.MEDIA, text=caption, media=media, extra=extra, **common)
        return ParsedUpdate(event=event, language=language)
    for kind in UNSUPPORTED_KINDS:
        if message.get(kind) is not None:
            event = InboundEvent(kind=EventKind.UNSUPPORTED, extra={"what": kind}, **common)
            return ParsedUpdate(event=event, language=language)
    if text is None:
        return _ignored("service_message")  # pinned, joined, title changed ...
    command = _command(text)
    if command is not None and not extra:
        name, args = command
        event = InboundEvent(kind=EventKind.COMMAND, text=text, command=name, args=args, **common)
        return ParsedUpdate(event=event, language=language)
    if not text.strip():
        return _ignored("empty_text")
    event = InboundEvent(kind=EventKind.TEXT, text=text, extra=extra, **common)
    return ParsedUpdate(event=event, language=language)


def _command(text: str) -> tuple[str, str] | None:
    """ "/cmd args", "/cmd@bot args" and "/start <deep-link payload>" → (cmd, args)."""
    match = _COMMAND.match(text.strip())
    if match is None:
        return None
    return match.group(1).lower(), (match.group(3) or "").strip()


def _addresses_bot(message: dict[str, Any], bot_username: str | None) -> bool:
    """Only answer a group when it speaks to the bot: a command, or the bot being added."""

    def is_us(name: object) -> bool:
        return bot_username is None or str(name or "").lower() == bot_username.lower()

    text = message.get("text")
    command = _COMMAND.match(text.strip()) if isinstance(text, str) else None
    if command is not None:
        return command.group(2) is None or is_us(command.group(2))
    members = message.get("new_chat_members") or []
    return any(
        isinstance(m, dict) and m.get("is_bot") and is_us(m.get("username")) for m in members
    )


def _hides_links(entities: Any) -> bool:
    """Links behind words, or a mention that opens someone's profile: not in the plain text."""
    hidden = ("text_link", "text_mention")
    return isinstance(entities, list) and any(
        isinstance(e, dict) and e.get("type") in hidden for e in entities
    )


def _reply_to(message: dict[str, Any]) -> str | None:
    replied = message.get("reply_to_message")
    if isinstance(replied, dict) and isinstance(replied.get("message_id"), int):
        return str(replied["message_id"])
    return None


def _media(message: dict[str, Any]) -> MediaRef | None:
    for kind in MEDIA_KINDS:
        item = message.get(kind)
        if kind == "photo" and isinstance(item, list):
            sizes = [p for p in item if isinstance(p, dict) and p.get("file_id")]
            item = sizes[-1] if sizes else None  # Telegram lists sizes smallest first
        if isinstance(item, dict) and isinstance(item.get("file_id"), str):
            mime = item.get("mime_type")
            size = item.get("file_size")
            return MediaRef(
                kind=kind,
                ref=item["file_id"],
                mime_type=mime if isinstance(mime, str) else None,
                size=size if isinstance(size, int) else None,
            )
    return None


def _parse_callback(query: dict[str, Any], message_id: str) -> ParsedUpdate:
    query_id = str(query["id"]) if query.get("id") is not None else None
    sender = _dict(query.get("from"))
    language = _language(sender)
    message = _dict(query.get("message"))
    chat_id, chat_type = _chat(message)
    if chat_id is None:
        # No message (too old, or null): in a private chat the chat id is her user id.
        chat_id, chat_type = sender.get("id"), PRIVATE
    data = query.get("data")
    if not isinstance(chat_id, int) or chat_type != PRIVATE or not isinstance(data, str):
        return _ignored("callback_not_usable", callback_query_id=query_id, language=language)
    if sender.get("is_bot") is True:
        return _ignored("from_bot", callback_query_id=query_id)
    if data == CHOSEN:
        return _ignored("chosen_pressed", callback_query_id=query_id)  # her earlier choice
    keyboard_message = message.get("message_id")
    label = _pressed_label(message, data)
    event = InboundEvent(
        channel=NAME,
        address=str(chat_id),
        kind=EventKind.CHOICE,
        message_id=message_id,
        choice=data,
        reply_to=str(keyboard_message) if isinstance(keyboard_message, int) else None,
        language_hint=language,
        extra={"pressed_label": label} if label else {},
    )
    return ParsedUpdate(event=event, callback_query_id=query_id, language=language)


def _pressed_label(message: dict[str, Any], data: str) -> str | None:
    """The words on the button she pressed, to leave "✓ <words>" where the keyboard was."""
    rows = _dict(message.get("reply_markup")).get("inline_keyboard")
    for row in rows if isinstance(rows, list) else []:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict) and button.get("callback_data") == data:
                text = button.get("text")
                return text[:64] if isinstance(text, str) else None
    return None


def _parse_member(update: dict[str, Any], message_id: str) -> ParsedUpdate:
    chat_id, chat_type = _chat(update)
    status = str(_dict(update.get("new_chat_member")).get("status") or "")
    language = _language(_dict(update.get("from")))
    if chat_id is None:
        return _ignored("no_chat")
    if chat_type != PRIVATE:
        if chat_type in ("group", "supergroup") and status in ("member", "administrator"):
            return ParsedUpdate(refuse_group=chat_id, language=language, reason="group")
        return _ignored("group")
    if status in ("kicked", "left"):
        kind = EventKind.BLOCKED
    elif status == "member":
        kind = EventKind.UNBLOCKED
    else:
        return _ignored("member_status")
    event = InboundEvent(NAME, str(chat_id), kind, message_id, language_hint=language)
    return ParsedUpdate(event=event, language=language)
