"""Build the asynchronous twilio ``Client`` the WhatsApp channel sends with.

twilio hard-codes its hosts (``https://api.twilio.com`` and friends) in each domain object, and
edge/region settings rewrite them again inside ``Client.request_async``. The one place every
request passes through with its final URL is the HTTP client's ``request``, so that is where an
``api_base_url`` (a local fake in tests) takes over the host.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

__all__ = ["PeerlineTwilioHttpClient", "make_twilio_client"]


class PeerlineTwilioHttpClient(AsyncTwilioHttpClient):
    """``AsyncTwilioHttpClient`` that can send requests for any ``*.twilio.com`` host elsewhere.

    Every twilio host is covered, not just ``api.twilio.com``: media URLs, regional hosts from
    ``TWILIO_REGION``/``TWILIO_EDGE`` and other products then cannot reach the real Twilio from
    a test by accident. Path and query are kept, so ``api_base_url`` may carry a path prefix.

    Credentials go in an ``Authorization`` header: twilio passes them as aiohttp's ``auth=``,
    which aiohttp deprecates with a warning on every request.
    """

    def __init__(self, api_base_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_base_url = api_base_url.rstrip("/") if api_base_url else None

    def rewrite(self, url: str) -> str:
        """``url`` with a Twilio host replaced by ``api_base_url`` (unchanged without one)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not self.api_base_url or (host != "twilio.com" and not host.endswith(".twilio.com")):
            return url
        base = urlsplit(self.api_base_url)
        return urlunsplit(
            (base.scheme, base.netloc, base.path + parts.path, parts.query, parts.fragment)
        )

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - twilio's HttpClient signature
        allow_redirects: bool = False,
    ) -> Response:
        headers = dict(headers or {})
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        return await super().request(
            method,
            self.rewrite(url),
            params=params,
            data=data,
            headers=headers,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


def make_twilio_client(account_sid: str, auth_token: str, api_base_url: str | None) -> Client:
    """A twilio ``Client`` whose calls are awaited: ``await client.messages.create_async(...)``.

    With ``api_base_url`` every request to a Twilio host goes there instead. Call it inside the
    running event loop (the aiohttp session binds to it) and release the session with
    ``await client.http_client.close()`` on shutdown.
    """
    http_client = PeerlineTwilioHttpClient(api_base_url)
    return Client(account_sid, auth_token, http_client=http_client)
