"""Her words at rest, sealed with the deployment key: no database file, WAL, dead tuple or
backup shows a relayed text, a danger text or her sentence, only AES-GCM ciphertext.

The key is the process's SECRET_KEY (set once at start-up by `use_key`); rows written before
sealing existed still read as they were.
"""

import base64
import json
import os
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import JSON, Text
from sqlalchemy.types import TypeDecorator

PREFIX = "sealed:1:"
_AAD = b"words-at-rest"


class WordsKeyMissing(RuntimeError):
    """A word was about to be stored before the process set its key: never stored in clear."""


class _Key:
    aead: AESGCM | None = None


def use_key(secret: str) -> None:
    """Seal with a key derived from the deployment secret (a purpose of its own)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"peerline", info=_AAD).derive(
        secret.encode()
    )
    _Key.aead = AESGCM(key)


def seal(plain: str) -> str:
    if _Key.aead is None:
        raise WordsKeyMissing("the words key is not set: call models.sealed.use_key first")
    nonce = os.urandom(12)
    blob = nonce + _Key.aead.encrypt(nonce, plain.encode(), _AAD)
    return PREFIX + base64.b64encode(blob).decode()


def unseal(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored  # written before sealing
    if _Key.aead is None:
        raise WordsKeyMissing("the words key is not set: call models.sealed.use_key first")
    blob = base64.b64decode(stored[len(PREFIX) :])
    return _Key.aead.decrypt(blob[:12], blob[12:], _AAD).decode()


class SealedJSON(TypeDecorator):
    """A JSON value stored as one sealed JSON string."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else seal(json.dumps(value, ensure_ascii=False))

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if isinstance(value, str) and value.startswith(PREFIX):
            return json.loads(unseal(value))
        return value


class SealedText(TypeDecorator):
    """Text stored sealed."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else seal(value)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else unseal(value)
