"""``FernetSecretBox``: the SecretBox over cryptography's MultiFernet.

Keys are Fernet keys (32 random bytes, URL-safe base64); the first one seals, every one opens,
so a new key is put first and the old ones stay until ``istmo secrets rotate`` has resealed
every column under the new one. The sealed plaintext is ``len(context) || context || secret``:
Fernet authenticates it (AES-128-CBC + HMAC-SHA256), and ``open`` compares the context in
constant time, so a ciphertext moved to another row (another context) does not open.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from application.shared.secrets import SecretUnreadable

_VERSION = b"\x01"


def generate_key() -> str:
    """A new Fernet key (what ``ISTMO_SECRET_KEYS`` holds, comma-separated)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


def valid_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False


class FernetSecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        for position, key in enumerate(keys, start=1):
            if not valid_key(key):
                # Which key, by position: never the key itself.
                raise ValueError(f"secret key #{position} is not a Fernet key (32 bytes, URL-safe base64)")
        self._fernet = MultiFernet([Fernet(key) for key in keys]) if keys else None

    def _box(self) -> MultiFernet:
        if self._fernet is None:
            raise SecretUnreadable("no secret keys are configured (ISTMO_SECRET_KEYS)")
        return self._fernet

    def seal(self, plaintext: str, *, context: str) -> str:
        return self._box().encrypt(_frame(context, plaintext)).decode("ascii")

    def open(self, sealed: str, *, context: str) -> str:
        box = self._box()
        try:
            framed = box.decrypt(sealed.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError, ValueError, TypeError):
            raise SecretUnreadable("the sealed value does not open with these keys") from None
        return _unframe(framed, context)

    def reseal(self, sealed: str, *, context: str) -> str:
        return self.seal(self.open(sealed, context=context), context=context)


def _frame(context: str, plaintext: str) -> bytes:
    bound = context.encode("utf-8")
    return _VERSION + len(bound).to_bytes(4, "big") + bound + plaintext.encode("utf-8")


def _unframe(framed: bytes, context: str) -> str:
    expected = context.encode("utf-8")
    if framed[:1] != _VERSION or len(framed) < 5:
        raise SecretUnreadable("the sealed value is not in a known format")
    size = int.from_bytes(framed[1:5], "big")
    bound = framed[5 : 5 + size]
    if len(bound) != size or not hmac.compare_digest(bound, expected):
        raise SecretUnreadable("the sealed value belongs to another context")
    try:
        return framed[5 + size :].decode("utf-8")
    except UnicodeDecodeError:
        raise SecretUnreadable("the sealed value is not in a known format") from None
