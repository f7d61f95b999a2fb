"""Fetch a WhatsApp media item from Twilio, with the account's credentials, within a size limit.

Credentials go only to Twilio's own hosts (or the configured Twilio-compatible API), never to
an arbitrary URL that happened to arrive in a form.
"""

from urllib.parse import urlsplit, urlunsplit

import httpx


class MediaUnavailable(Exception):
    """The media could not be fetched, or is larger than we pass on."""


def _rewrite(url: str, api_base_url: str | None) -> str | None:
    """The URL to fetch, or None when it is not a Twilio media URL we may send credentials to."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if api_base_url:
        base = urlsplit(api_base_url.rstrip("/"))
        if (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
            return url
        if host == "twilio.com" or host.endswith(".twilio.com"):
            return urlunsplit((base.scheme, base.netloc, base.path + parts.path, parts.query, ""))
        return None
    if parts.scheme == "https" and (host == "twilio.com" or host.endswith(".twilio.com")):
        return url
    return None


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
    target = _rewrite(url, api_base_url)
    if target is None:
        raise MediaUnavailable("not a Twilio media URL")
    auth = httpx.BasicAuth(account_sid, auth_token)
    try:
        async with (
            httpx.AsyncClient(timeout=seconds, follow_redirects=False) as client,
            client.stream("GET", target, auth=auth) as response,
        ):
            # Twilio answers with a redirect to a short-lived, pre-signed URL: follow it
            # without credentials.
            if response.is_redirect and "location" in response.headers:
                return await _download(client, response.headers["location"], None, max_bytes)
            return await _read(response, max_bytes)
    except httpx.HTTPError as error:
        raise MediaUnavailable(type(error).__name__) from None


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
