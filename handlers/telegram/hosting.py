"""Short-lived signed links to Telegram files, so WhatsApp (Twilio) can fetch a voice note.

Twilio sends media only by public URL. A link names the Telegram file id and an expiry, signed
with a key derived from SECRET_KEY; the web edge streams the file from the Bot API on request.
Nothing is stored: an expired or forged link is a 404.
"""

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram.error import TelegramError

from flows.events import MediaRef

MEDIA_PATH = "/media/telegram/{token}"
LINK_SECONDS = 3600
# What WhatsApp can show, by the kind Telegram gave it; other kinds do not cross.
CROSSING_KINDS = {
    "voice": "audio/ogg",
    "audio": "audio/mpeg",
    "photo": "image/jpeg",
    "video": "video/mp4",
    "document": "application/pdf",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class MediaLinks:
    def __init__(self, secret: str, public_url: str, max_bytes: int) -> None:
        self._key = hashlib.sha256(b"telegram-media-links:" + secret.encode()).digest()
        self.public_url = public_url.rstrip("/")
        self.max_bytes = max_bytes

    def link(self, media: MediaRef, now: float | None = None) -> str | None:
        """A public URL for this Telegram file, or None when it cannot go to WhatsApp."""
        mime = media.mime_type or CROSSING_KINDS.get(media.kind)
        if media.kind not in CROSSING_KINDS or media.ref.startswith(("http://", "https://")):
            return None
        if media.kind == "document" and mime != "application/pdf":
            return None  # WhatsApp would refuse most other document types
        if media.size is not None and media.size > self.max_bytes:
            return None
        expires = int((now if now is not None else time.time()) + LINK_SECONDS)
        payload = _b64(json.dumps({"f": media.ref, "m": mime, "e": expires}).encode())
        signature = _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())
        return self.public_url + MEDIA_PATH.format(token=f"{payload}.{signature}")

    def read(self, token: str, now: float | None = None) -> tuple[str, str] | None:
        """(file id, content type) of a valid, unexpired link."""
        payload, _, signature = token.partition(".")
        expected = _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())
        # Compared as bytes: a non-ASCII str would make compare_digest raise, not answer.
        if not signature or not hmac.compare_digest(signature.encode(), expected.encode()):
            return None
        try:
            data = json.loads(_unb64(payload))
        except ValueError:
            return None
        if data.get("e", 0) < (now if now is not None else time.time()):
            return None
        return str(data["f"]), str(data["m"])

    def route(self, bot: Any) -> Route:
        async def serve(request: Request) -> Response:
            found = self.read(request.path_params["token"])
            if found is None:
                return PlainTextResponse("not found", status_code=404)
            file_id, mime = found
            try:
                file = await bot.get_file(file_id)
                if file.file_size is not None and file.file_size > self.max_bytes:
                    return PlainTextResponse("too large", status_code=404)
                data = await file.download_as_bytearray()
            except TelegramError:
                return PlainTextResponse("not found", status_code=404)
            if len(data) > self.max_bytes:
                return PlainTextResponse("too large", status_code=404)
            return Response(bytes(data), media_type=mime, headers={"Cache-Control": "no-store"})

        return Route(MEDIA_PATH, serve, methods=["GET"])
