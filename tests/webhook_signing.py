"""Signing deliveries the way the providers do, for the webhook tests and the bench."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


def standard_signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks: ``v1,`` + base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}``."""
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def standard_key(secret: str) -> bytes:
    """The key of a ``whsec_`` secret (standard scheme); any other string is Polar's legacy key."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[len("whsec_"):])
    return secret.encode()


def polar_headers(secret: str, body: bytes, *, msg_id: str = "msg_1", timestamp: int | None = None, legacy: bool = False) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    key = secret.encode() if legacy else standard_key(secret)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": standard_signature(key, msg_id, ts, body),
        "Content-Type": "application/json",
    }


def workos_headers(secret: str, body: bytes, *, timestamp_ms: int | None = None) -> dict[str, str]:
    ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {"WorkOS-Signature": f"t={ts}, v1={digest}", "Content-Type": "application/json"}
