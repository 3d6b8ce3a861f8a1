"""The WhatsApp webhook signature: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>``."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


class HubSignatures:
    """Checks over the raw bytes as received, in constant time; a missing or malformed header is invalid."""

    def valid(self, *, secret: str, body: bytes, header: str | None) -> bool:
        if not header or not header.startswith(PREFIX):
            return False
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode(), header[len(PREFIX):].strip().lower().encode())


def sign(secret: str, body: bytes) -> str:
    """The header value Meta would send (tests and benchmarks)."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
