"""Aurinko's webhook signature: ``X-Aurinko-Signature`` = hex HMAC-SHA256(signing secret,
``"v0:" + X-Aurinko-Request-Timestamp + ":" + raw body``), the timestamp within 5 minutes of now.

Checked over the raw bytes, in constant time. The timestamp is Unix seconds (a value that can only
be milliseconds is read as such). Nothing here logs; a refusal says why without echoing the
signature or the secret.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import timedelta

from application.shared.ports import Clock
from application.webhooks.ports import SignatureRejected

TIMESTAMP_HEADER = "X-Aurinko-Request-Timestamp"
SIGNATURE_HEADER = "X-Aurinko-Signature"
TOLERANCE = timedelta(minutes=5)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    message = b"v0:" + timestamp.encode("ascii") + b":" + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


class AurinkoWebhookVerifier:
    """The ``WebhookVerifier`` of ``/webhooks/aurinko``."""

    def __init__(self, secret: str, *, clock: Clock, tolerance: timedelta = TOLERANCE) -> None:
        if not secret:
            raise ValueError("the Aurinko signing secret is empty")
        self._secret = secret
        self._clock = clock
        self._tolerance = tolerance

    def __repr__(self) -> str:
        return "AurinkoWebhookVerifier(secret='[redacted]')"

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        now = self._clock.now()
        timestamp = (_header(headers, TIMESTAMP_HEADER) or "").strip()
        signature = (_header(headers, SIGNATURE_HEADER) or "").strip()
        if not timestamp or not signature:
            raise SignatureRejected(f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required")
        if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 16:
            raise SignatureRejected(f"{TIMESTAMP_HEADER} is not a Unix timestamp")
        seconds = int(timestamp)
        if seconds > 100_000_000_000:  # only milliseconds can be this large
            seconds //= 1000
        # In seconds, not datetimes: a far timestamp (16 digits of milliseconds is the year
        # 318857) is refused for its distance instead of overflowing datetime.
        if abs(now.timestamp() - seconds) > self._tolerance.total_seconds():
            raise SignatureRejected("the request timestamp is not within 5 minutes of now")
        expected = sign(self._secret, timestamp, body)
        if not hmac.compare_digest(expected.encode(), signature.lower().encode("utf-8", "replace")):
            raise SignatureRejected("the signature does not match")
