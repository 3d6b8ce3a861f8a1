"""WorkOS webhooks: ``WorkOS-Signature: t=<unix ms>, v1=<hex>`` where the hex is
HMAC-SHA256(secret, ``"{t}.{raw body}"``); ``t`` within 180 seconds of now, either way.

Several ``v1=`` entries may be present (secret rotation); one valid is enough. Compared in
constant time; the reasons never include a computed signature.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping

from application.webhooks.ports import SignatureRejected

TOLERANCE_SECONDS = 180
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


class WorkOsWebhookVerifier:
    def __init__(self, secret: str, *, tolerance: float = TOLERANCE_SECONDS, now: Callable[[], float] = time.time) -> None:
        if not secret:
            raise ValueError("a WorkOS webhook secret is required")
        self._secret = secret.encode()
        self._tolerance = tolerance
        self._now = now

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        header = {k.lower(): v for k, v in headers.items()}.get("workos-signature", "").strip()
        if not header:
            raise SignatureRejected("the WorkOS-Signature header is missing")
        timestamp: str | None = None
        signatures: list[str] = []
        for part in header.split(","):
            name, sep, value = part.strip().partition("=")
            if not sep:
                raise SignatureRejected("the WorkOS-Signature header is not 't=<ms>, v1=<hex>'")
            if name == "t":
                timestamp = value.strip()
            elif name == "v1" and _HEX.match(value.strip()):
                signatures.append(value.strip().lower())
        if timestamp is None or not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 16):
            raise SignatureRejected("the WorkOS-Signature header has no t=<unix ms>")
        if not signatures:
            raise SignatureRejected("the WorkOS-Signature header has no v1=<hex> signature")
        age = self._now() - int(timestamp) / 1000
        if age > self._tolerance:
            raise SignatureRejected(f"the WorkOS-Signature timestamp is more than {int(self._tolerance)} s old")
        if age < -self._tolerance:
            raise SignatureRejected(f"the WorkOS-Signature timestamp is more than {int(self._tolerance)} s in the future")
        expected = hmac.new(self._secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest().encode()
        if not any(hmac.compare_digest(expected, candidate.encode()) for candidate in signatures):
            raise SignatureRejected("no signature matches")
