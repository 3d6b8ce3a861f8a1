"""JWT bearer tokens: HS256 with a shared secret (the default) or RS256 against a JWKS (WorkOS)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

from application.tenancy.auth import AuthenticationFailed, TokenClaims

_LEEWAY_SECONDS = 30
MAX_LIFETIME_SECONDS = 31 * 24 * 3600
"""A token whose ``exp`` is further ahead than this is refused (``istmo token`` issues no longer one)."""


def _claims(payload: dict[str, Any]) -> TokenClaims:
    expires = payload.get("exp")
    if not isinstance(expires, int) or isinstance(expires, bool):
        raise AuthenticationFailed("invalid_token", "the token's exp is not a number of seconds")
    if expires - time.time() > MAX_LIFETIME_SECONDS:
        raise AuthenticationFailed("invalid_token", "the token lives longer than 31 days")
    subject, tenant = payload.get("sub"), payload.get("org_id")
    if not isinstance(subject, str) or not subject:
        raise AuthenticationFailed("invalid_token", "the token has no subject (sub)")
    if not isinstance(tenant, str) or not tenant:
        raise AuthenticationFailed("invalid_token", "the token names no organization (org_id)")
    role, session = payload.get("role"), payload.get("sid")
    return TokenClaims(
        subject=subject, tenant_reference=tenant, role=role if isinstance(role, str) else None,
        session_id=session if isinstance(session, str) and 0 < len(session) <= 200 else None,
    )


def _decode(token: str, key: Any, algorithm: str) -> dict[str, Any]:
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            leeway=_LEEWAY_SECONDS,
            options={"require": ["exp", "sub"], "verify_aud": False, "verify_iss": False},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationFailed("token_expired", "the token has expired") from None
    except jwt.InvalidSignatureError:
        raise AuthenticationFailed("bad_signature", "the token's signature is not valid") from None
    except jwt.InvalidAlgorithmError:
        raise AuthenticationFailed("bad_signature", f"the token must be signed with {algorithm}") from None
    except jwt.MissingRequiredClaimError as error:
        raise AuthenticationFailed("invalid_token", f"the token lacks the {error.claim!r} claim") from None
    except jwt.InvalidTokenError:
        raise AuthenticationFailed("invalid_token", "the token is not a well-formed JWT") from None


class HmacJwtVerifier:
    """HS256 tokens signed with ``ISTMO_JWT_SECRET`` (what ``istmo token`` issues)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def verify(self, token: str) -> TokenClaims:
        return _claims(_decode(token, self._secret, "HS256"))

    def issue(self, *, tenant: str, subject: str, role: str, ttl_seconds: int, session: str | None = None) -> str:
        """``session``: the ``sid`` claim (a login session); a fresh one when not given."""
        if not 0 < ttl_seconds <= MAX_LIFETIME_SECONDS:
            raise ValueError(f"a token lives between 1 second and 31 days, not {ttl_seconds} seconds")
        now = int(time.time())
        payload = {
            "sub": subject,
            "org_id": tenant,
            "role": role,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": uuid.uuid4().hex,
            "sid": session or uuid.uuid4().hex,
        }
        return jwt.encode(payload, self._secret, algorithm="HS256")


class JwksJwtVerifier:
    """RS256 access tokens (WorkOS), keys fetched from a JWKS URL and cached."""

    def __init__(self, jwks_url: str) -> None:
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600, timeout=5)

    def verify(self, token: str) -> TokenClaims:
        try:
            signing_key = self._jwks.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError:
            raise AuthenticationFailed("jwks_unavailable", "the signing keys could not be fetched") from None
        except jwt.PyJWKClientError:
            raise AuthenticationFailed("bad_signature", "the token was not signed by a known key") from None
        except jwt.InvalidTokenError:
            raise AuthenticationFailed("invalid_token", "the token is not a well-formed JWT") from None
        return _claims(_decode(token, signing_key.key, "RS256"))
