"""Authentication: from a bearer token to the actor a request acts as.

The tenant comes only from the verified token: its ``org_id`` names a tenant by external id
(a WorkOS organization) or slug.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from application.shared.ports import UnitOfWorkFactory
from application.tenancy.ports import TenancyUnitOfWork
from domain.tenancy.model import Actor, Role


class AuthenticationFailed(Exception):
    """The request cannot be attributed to a tenant; ``reason`` is a stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class TokenClaims:
    subject: str
    tenant_reference: str
    role: str | None
    session_id: str | None = None


class TokenVerifier(Protocol):
    def verify(self, token: str) -> TokenClaims:
        """Claims of a genuine, unexpired token; ``AuthenticationFailed`` otherwise."""
        ...


_ROLES = {"owner": Role.OWNER, "admin": Role.ADMIN}


class Authenticator:
    def __init__(self, verifier: TokenVerifier, uow_factory: UnitOfWorkFactory[TenancyUnitOfWork]) -> None:
        self._verifier = verifier
        self._uow_factory = uow_factory

    def authenticate(self, authorization: str | None) -> Actor:
        scheme, _, token = (authorization or "").strip().partition(" ")
        if not authorization:
            raise AuthenticationFailed("missing_token", "the Authorization: Bearer <token> header is missing")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed("malformed_header", "the Authorization header must be 'Bearer <token>'")
        claims = self._verifier.verify(token.strip())
        with self._uow_factory(None) as uow:
            principal = uow.tenants.principal(claims.tenant_reference, claims.subject)
        if principal is None:
            raise AuthenticationFailed("unknown_tenant", "the token's organization does not match any tenant")
        if principal.user_active is False:
            raise AuthenticationFailed("user_deactivated", "this user has been deactivated")
        role = _ROLES.get((claims.role or "").lower(), Role.MEMBER)
        return Actor(tenant_id=principal.tenant_id, user_id=claims.subject, role=role, session_id=claims.session_id)
