"""What every channel's webhook needs from HTTP: a body read with a hard size limit."""

from starlette.exceptions import HTTPException
from starlette.requests import Request

DEFAULT_MAX_BODY = 1_000_000


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, "request body too large")


async def read_body(request: Request, limit: int = DEFAULT_MAX_BODY) -> bytes:
    """The request body, refusing with 413 as soon as it grows past `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)
