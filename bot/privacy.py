"""Channel addresses at rest: AES-GCM encrypted, plus an HMAC for look-ups."""

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"peerline", info=purpose).derive(
        secret.encode()
    )


class AddressVault:
    """Turns a channel address into (hash, ciphertext) and back; the key never leaves memory."""

    def __init__(self, secret_key: str) -> None:
        self._aead = AESGCM(_derive(secret_key, b"address-encryption"))
        self._hash_key = _derive(secret_key, b"address-lookup")
        self._journal = AESGCM(_derive(secret_key, b"inbound-journal"))

    def lookup_hash(self, channel: str, address: str) -> str:
        return hmac.new(self._hash_key, f"{channel}:{address}".encode(), hashlib.sha256).hexdigest()

    def encrypt(self, channel: str, address: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, address.encode(), channel.encode())

    def decrypt(self, channel: str, blob: bytes) -> str:
        return self._aead.decrypt(blob[:12], blob[12:], channel.encode()).decode()

    def seal(self, payload: bytes) -> bytes:
        """An inbound update at rest until it is processed: her words and chat id, encrypted."""
        nonce = os.urandom(12)
        return nonce + self._journal.encrypt(nonce, payload, b"inbound")

    def unseal(self, blob: bytes) -> bytes:
        return self._journal.decrypt(blob[:12], blob[12:], b"inbound")


def new_secret_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
