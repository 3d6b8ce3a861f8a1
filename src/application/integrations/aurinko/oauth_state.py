"""The OAuth ``state`` of ``getAurinkoAuthorizationUrl``: signed, expiring, bound to tenant and user.

``base64url(json) "." hex(HMAC-SHA256(key, base64url(json)))``; the JSON names the tenant, the user,
the service type and scopes asked for, a random nonce and the expiry. Verification is constant
time and checks everything but single use, which needs storage: ``connectAurinko`` consumes the
nonce in the database (a second use of the same state is refused).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.integrations.aurinko.connection import InvalidOAuthState

STATE_TTL = timedelta(minutes=10)
MAX_STATE = 2048


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthState:
    tenant_id: str
    user_id: str
    service_type: str
    scopes: tuple[str, ...]
    nonce: str
    expires_at: datetime


class OAuthStateCodec:
    def __init__(self, key: bytes, *, ttl: timedelta = STATE_TTL) -> None:
        if len(key) < 16:
            raise ValueError("the OAuth state key must have at least 16 bytes")
        self._key = key
        self.ttl = ttl

    def issue(
        self, *, tenant_id: str, user_id: str, service_type: str, scopes: tuple[str, ...], now: datetime
    ) -> tuple[str, OAuthState]:
        state = OAuthState(
            tenant_id=tenant_id,
            user_id=user_id,
            service_type=service_type,
            scopes=scopes,
            nonce=secrets.token_urlsafe(24),
            expires_at=(now + self.ttl).replace(microsecond=0),
        )
        body = json.dumps(
            {
                "t": state.tenant_id, "u": state.user_id, "s": state.service_type, "sc": list(state.scopes),
                "n": state.nonce, "e": int(state.expires_at.timestamp()),
            },
            separators=(",", ":"),
        ).encode()
        encoded = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
        return f"{encoded}.{self._sign(encoded)}", state

    def _sign(self, encoded: str) -> str:
        return hmac.new(self._key, b"aurinko-oauth-state:" + encoded.encode(), hashlib.sha256).hexdigest()

    def verify(self, token: str, *, tenant_id: str, user_id: str, now: datetime) -> OAuthState:
        """The state, if ours, unexpired and issued to this tenant and user; else ``InvalidOAuthState``
        (one message for every reason: the caller learns nothing about why)."""
        refused = InvalidOAuthState(
            "state is invalid or expired: start the connection again", field="state"
        )
        if not isinstance(token, str) or len(token) > MAX_STATE or token.count(".") != 1:
            raise refused
        encoded, signature = token.split(".")
        if not hmac.compare_digest(self._sign(encoded).encode(), signature.lower().encode("utf-8", "replace")):
            raise refused
        try:
            raw = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
            state = OAuthState(
                tenant_id=str(raw["t"]),
                user_id=str(raw["u"]),
                service_type=str(raw["s"]),
                scopes=tuple(str(scope) for scope in raw["sc"]),
                nonce=str(raw["n"]),
                expires_at=datetime.fromtimestamp(int(raw["e"]), UTC),
            )
        except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise refused from None
        if state.expires_at <= now:
            raise refused
        if not (
            hmac.compare_digest(state.tenant_id.encode(), tenant_id.encode())
            and hmac.compare_digest(state.user_id.encode(), user_id.encode())
        ):
            raise refused
        return state
