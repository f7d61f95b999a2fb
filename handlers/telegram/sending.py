"""Deliver one rendered message through the Bot API: text, keyboards, media, copies, deletes."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from telegram import Bot, InputFile, Message, ReplyParameters
from telegram.error import Forbidden, RetryAfter, TelegramError

from flows.events import MediaRef
from handlers.base import PermanentFailure, RenderedMessage, SentMessage
from handlers.telegram.errors import classify, harmless
from handlers.telegram.render import MAX_CAPTION, layout, utf16_len
from handlers.whatsapp.media import MediaUnavailable
from i18n import N_, translate

log = logging.getLogger(__name__)

DELETE_BATCH = 100  # deleteMessages takes at most 100 ids
# A delete answered so is done (the message is gone); any other refusal leaves it on her screen.
ALREADY_GONE = ("message to delete not found", "message identifier is not specified")
# MediaRef.kind → (Bot method, parameter name, takes a caption)
MEDIA_METHODS: dict[str, tuple[str, str, bool]] = {
    "voice": ("send_voice", "voice", True),
    "audio": ("send_audio", "audio", True),
    "photo": ("send_photo", "photo", True),
    "video": ("send_video", "video", True),
    "document": ("send_document", "document", True),
    "animation": ("send_animation", "animation", True),
    "sticker": ("send_sticker", "sticker", False),
    "video_note": ("send_video_note", "video_note", False),
}
NOT_SHOWN = N_("channel.media_not_shown")
NOT_ALL_DELETED = N_("exit.not_all_deleted")

# Fetches a media URL from the other channel: (bytes, content type), or raises.
MediaFetcher = Callable[[str], Awaitable[tuple[bytes, str]]]


def _upload_kind(content_type: str) -> str:
    """How a file from WhatsApp is shown on Telegram: a voice note stays a voice note."""
    major = content_type.split("/")[0]
    if content_type in ("audio/ogg", "audio/opus"):
        return "voice"
    return {"audio": "audio", "image": "photo", "video": "video"}.get(major, "document")


class TelegramSender:
    def __init__(self, bot: Bot, fetch_media: MediaFetcher | None = None) -> None:
        self.bot = bot
        self.fetch_media = fetch_media

    async def send(self, address: str, message: RenderedMessage) -> SentMessage:
        try:
            chat_id = int(address)
        except ValueError:
            raise PermanentFailure("not a Telegram chat id") from None
        try:
            return await self._send(chat_id, message)
        except TelegramError as error:
            raise classify(error) from None

    async def _send(self, chat_id: int, message: RenderedMessage) -> SentMessage:
        extra = message.extra
        if message.kind == "delete":
            left = await self._delete(chat_id, extra.get("_delete") or [])
            if not message.text.strip():
                return SentMessage(None)
            # What is left in the chat is one innocuous line (and, if some message would not
            # go, a word that she can delete the chat herself).
            text = message.text
            if left:
                text = "\n\n".join([text, translate(message.language, NOT_ALL_DELETED)])
            return await self._send_text(chat_id, replace(message, buttons=()), text)
        if message.kind == "edit" and extra.get("_edit_of") is not None:
            return await self._edit(chat_id, int(str(extra["_edit_of"])), message)
        if message.kind == "markup" and extra.get("_edit_of") is not None:
            return await self._replace_keyboard(chat_id, int(str(extra["_edit_of"])), message)
        source = extra.get("copy_from_address")
        copy_id = extra.get("_copy_message_id")
        if source is not None and copy_id is not None:
            # Her own message copied (never forwarded): no "forwarded from" line, no name; with
            # `_caption`, our caption (her alias, her masked words) replaces the copy's own.
            caption = None
            if extra.get("_caption"):
                fits = utf16_len(message.text) <= MAX_CAPTION
                caption = message.text if fits else message.text.split(":", 1)[0]
            copied = await self.bot.copy_message(
                chat_id=chat_id,
                from_chat_id=int(str(source)),
                message_id=int(str(copy_id)),
                caption=caption,
                reply_parameters=self._reply(message),
                protect_content=_protected(message),
            )
            if caption is not None and caption != message.text:  # too long to be a caption
                await self._send_text(chat_id, replace(message, reply_to=None), message.text)
            return SentMessage(str(copied.message_id))
        if message.media is not None:
            return await self._send_media(chat_id, message, message.media)
        return await self._send_text(chat_id, message, message.text)

    @staticmethod
    def _reply(message: RenderedMessage) -> ReplyParameters | None:
        if message.reply_to and str(message.reply_to).isdigit():
            return ReplyParameters(int(message.reply_to), allow_sending_without_reply=True)
        return None

    async def _send_text(self, chat_id: int, message: RenderedMessage, text: str) -> SentMessage:
        laid_out = layout(replace(message, text=text))
        reply = self._reply(message)
        last: Message | None = None
        for index, chunk in enumerate(laid_out.chunks):
            final = index == len(laid_out.chunks) - 1
            last = await self.bot.send_message(
                chat_id,
                chunk or "…",
                reply_markup=laid_out.keyboard if final else None,
                reply_parameters=reply if index == 0 else None,
                protect_content=_protected(message),
            )
        assert last is not None
        return SentMessage(str(last.message_id))

    async def _send_media(
        self, chat_id: int, message: RenderedMessage, media: MediaRef
    ) -> SentMessage:
        if media.ref.startswith(("http://", "https://")):
            return await self._send_fetched(chat_id, message, media)
        method, field, captioned = MEDIA_METHODS.get(media.kind, MEDIA_METHODS["document"])
        if media.kind == "document":
            return await self._renamed_document(chat_id, message, media)
        return await self._media_then_text(chat_id, message, method, field, captioned, media.ref)

    async def _renamed_document(
        self, chat_id: int, message: RenderedMessage, media: MediaRef
    ) -> SentMessage:
        """A document is sent again under a neutral name: its own name may say who she is."""
        try:
            data = await (await self.bot.get_file(media.ref)).download_as_bytearray()
        except TelegramError as error:  # too big for the Bot API to fetch, or gone
            log.info("document not passed on: %s", error.message)
            notice = translate(message.language, NOT_SHOWN)
            text = "\n\n".join(filter(None, [message.text, notice]))
            return await self._send_text(chat_id, message, text)
        upload = InputFile(bytes(data), filename=f"document{_extension(media.mime_type or '')}")
        return await self._media_then_text(chat_id, message, "send_document", "document", True,
                                           upload)  # fmt: skip

    async def _media_then_text(
        self,
        chat_id: int,
        message: RenderedMessage,
        method: str,
        field: str,
        captioned: bool,
        value: Any,
    ) -> SentMessage:
        laid_out = layout(message)
        text = message.text
        single = len(laid_out.chunks) == 1
        fits = captioned and single and utf16_len(laid_out.chunks[0]) <= MAX_CAPTION
        kwargs: dict[str, Any] = {
            field: value,
            "reply_parameters": self._reply(message),
            "protect_content": _protected(message),
        }
        if fits:
            kwargs["caption"] = laid_out.chunks[0] or None
            kwargs["reply_markup"] = laid_out.keyboard
        sent = await getattr(self.bot, method)(chat_id, **kwargs)
        if fits or not (text or message.buttons):
            return SentMessage(str(sent.message_id))
        return await self._send_text(chat_id, message, text)

    async def _send_fetched(
        self, chat_id: int, message: RenderedMessage, media: MediaRef
    ) -> SentMessage:
        """Media from the other channel: re-uploaded when it may cross, else a clear notice."""
        if self.fetch_media is not None:
            try:
                data, content_type = await self.fetch_media(media.ref)
            except MediaUnavailable as error:
                log.info("media not passed on: %s", error)
            else:
                kind = _upload_kind(content_type or media.mime_type or "")
                method, field, captioned = MEDIA_METHODS[kind]
                upload = InputFile(data, filename=f"{kind}{_extension(content_type)}")
                return await self._media_then_text(
                    chat_id, message, method, field, captioned, upload
                )
        notice = translate(message.language, NOT_SHOWN)
        text = "\n\n".join(filter(None, [message.text, notice]))
        return await self._send_text(chat_id, message, text)

    async def _delete(self, chat_id: int, ids: list[Any]) -> int:
        """Delete in batches; a batch that fails goes one by one. Returns how many stayed."""
        message_ids = [int(str(i)) for i in ids if str(i).isdigit()]
        left = 0
        for start in range(0, len(message_ids), DELETE_BATCH):
            batch = message_ids[start : start + DELETE_BATCH]
            try:
                await self.bot.delete_messages(chat_id, batch)
            except (RetryAfter, Forbidden):
                raise  # asked to wait, or she blocked the bot: the outbox knows what to do
            except TelegramError as error:
                if _gone(error):
                    continue
                log.info("deleteMessages failed (%s); deleting one by one", error.message)
                left += await self._delete_one_by_one(chat_id, batch)
        return left

    async def _delete_one_by_one(self, chat_id: int, message_ids: list[int]) -> int:
        left = 0
        for message_id in message_ids:
            try:
                await self.bot.delete_message(chat_id, message_id)
            except (RetryAfter, Forbidden):
                raise
            except TelegramError as error:
                if not _gone(error):
                    left += 1
        return left

    async def _replace_keyboard(
        self, chat_id: int, message_id: int, message: RenderedMessage
    ) -> SentMessage:
        """A pressed keyboard becomes her choice (or goes): the old buttons cannot be pressed."""
        try:
            await self.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=layout(message).keyboard
            )
        except TelegramError as error:
            if not harmless(error):
                raise
        return SentMessage(None)

    async def _edit(self, chat_id: int, message_id: int, message: RenderedMessage) -> SentMessage:
        laid_out = layout(message)
        if message.extra.get("_caption"):  # the caption of a copied photo or voice note
            try:
                await self.bot.edit_message_caption(
                    chat_id=chat_id, message_id=message_id, caption=message.text[:MAX_CAPTION]
                )
            except TelegramError as error:
                if not harmless(error):
                    raise
            return SentMessage(str(message_id))
        try:
            await self.bot.edit_message_text(
                laid_out.chunks[0] or "…",
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=laid_out.keyboard,
            )
        except TelegramError as error:
            if not harmless(error):
                raise
        return SentMessage(str(message_id))


def _protected(message: RenderedMessage) -> bool:
    """Relayed words cannot be forwarded or saved out of the bot, by either woman."""
    return message.kind == "relay"


def _gone(error: TelegramError) -> bool:
    return any(text in error.message.lower() for text in ALREADY_GONE)


def _extension(content_type: str) -> str:
    return {
        "audio/ogg": ".ogg",
        "audio/mpeg": ".mp3",
        "audio/amr": ".amr",
        "image/jpeg": ".jpg",
        "image/png": ".png",
        "image/webp": ".webp",
        "video/mp4": ".mp4",
        "application/pdf": ".pdf",
        "application/msword": ".doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
        "text/plain": ".txt",
    }.get(content_type, "")
