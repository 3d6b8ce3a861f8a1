"""Expiring HMAC-signed grants, for the links the local storage serves itself."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer


class SignedUrlInvalid(Exception):
    """The link was altered, or was not made by this service."""


class SignedUrlExpired(Exception):
    """The link was genuine but its time is up."""


class GrantSigner:
    """Signs small payloads with an expiry; tells a forged link from an expired one."""

    def __init__(self, secret: str, purpose: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt=f"istmo.{purpose}")

    def sign(self, payload: dict[str, Any], *, expires_at: int) -> str:
        return self._serializer.dumps({**payload, "exp": expires_at})

    def verify(self, token: str, *, now: float) -> dict[str, Any]:
        try:
            payload = self._serializer.loads(token)
        except BadSignature:
            raise SignedUrlInvalid("the link's signature does not match: it was altered or forged") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
            raise SignedUrlInvalid("the link does not carry a valid grant")
        if payload["exp"] < now:
            raise SignedUrlExpired("the link has expired; ask for a new one")
        return payload
