"""Fetch a WhatsApp media item from Twilio, with the account's credentials, within a size limit.

Credentials go only to a Media resource of our own account on Twilio's API (or the configured
Twilio-compatible API), never to another path or host that happened to arrive in a form.
"""

import re
from urllib.parse import urlsplit, urlunsplit

import httpx

# /2010-04-01/Accounts/AC…/Messages/MM…/Media/ME…: the only paths credentials are sent to.
MEDIA_PATH = re.compile(
    r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages/(MM|SM)[0-9a-f]{32}/Media/ME[0-9a-f]{32}$"
)
API_HOST = "api.twilio.com"
# Twilio answers a media GET with a redirect to short-lived storage on its own content hosts.
REDIRECT_HOSTS = ("twiliocdn.com", "twilio.com")


class MediaUnavailable(Exception):
    """The media could not be fetched, or is larger than we pass on."""


def _ours(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def _rewrite(url: str, api_base_url: str | None, account_sid: str | None = None) -> str | None:
    """The URL to fetch, or None when it is not a Media resource of our account."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = MEDIA_PATH.match(parts.path)
    if path is None or parts.query or (account_sid and path.group(1) != account_sid):
        return None
    if api_base_url:
        base = urlsplit(api_base_url.rstrip("/"))
        if (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
            return url
        if host == API_HOST:
            return urlunsplit((base.scheme, base.netloc, base.path + parts.path, "", ""))
        return None
    return url if parts.scheme == "https" and host == API_HOST else None


async def fetch_twilio_media(
    url: str,
    *,
    account_sid: str,
    auth_token: str,
    api_base_url: str | None,
    max_bytes: int,
    seconds: float = 20.0,
) -> tuple[bytes, str]:
    """The media's bytes and content type; raises MediaUnavailable instead of fetching too much."""
    target = _rewrite(url, api_base_url, account_sid)
    if target is None:
        raise MediaUnavailable("not a Media resource of our Twilio account")
    auth = httpx.BasicAuth(account_sid, auth_token)
    try:
        async with (
            httpx.AsyncClient(timeout=seconds, follow_redirects=False) as client,
            client.stream("GET", target, auth=auth) as response,
        ):
            # Twilio answers with a redirect to a short-lived, pre-signed URL: one hop, without
            # credentials, and only to Twilio's own hosts (or the configured API in tests).
            if response.is_redirect and "location" in response.headers:
                location = str(response.url.join(response.headers["location"]))
                if not _may_follow(location, api_base_url):
                    raise MediaUnavailable("redirected away from Twilio")
                return await _download(client, location, None, max_bytes)
            return await _read(response, max_bytes)
    except httpx.HTTPError as error:
        raise MediaUnavailable(type(error).__name__) from None


def _may_follow(location: str, api_base_url: str | None) -> bool:
    parts = urlsplit(location)
    if api_base_url:
        base = urlsplit(api_base_url)
        if (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
            return True
    return parts.scheme == "https" and _ours((parts.hostname or "").lower(), REDIRECT_HOSTS)


async def _download(
    client: httpx.AsyncClient, url: str, auth: httpx.BasicAuth | None, max_bytes: int
) -> tuple[bytes, str]:
    async with client.stream("GET", url, auth=auth) as response:
        return await _read(response, max_bytes)


async def _read(response: httpx.Response, max_bytes: int) -> tuple[bytes, str]:
    if response.status_code != 200:
        raise MediaUnavailable(f"HTTP {response.status_code}")
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise MediaUnavailable("too large")
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data.extend(chunk)
        if len(data) > max_bytes:
            raise MediaUnavailable("too large")
    content_type = response.headers.get("content-type", "application/octet-stream")
    return bytes(data), content_type.split(";")[0].strip()
