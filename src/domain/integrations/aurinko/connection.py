"""The Aurinko connection of a tenant: which mailbox account it is, whether it works, how far its
inbox is synced. One per tenant; its access token is kept sealed (never here in the clear).

``NEEDS_RECONNECT``: Aurinko answered 401 (``token.dead``, ``token.refresh.failed``,
``unauthorized``) for its token; nothing is sent or synced with it until the tenant connects again.
``DISCONNECTED``: the tenant disconnected; the token was revoked and deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from domain.shared.errors import DomainError, InvalidInput
from domain.shared.model import Aggregate, new_id


class ServiceType(StrEnum):
    GOOGLE = "Google"
    OFFICE365 = "Office365"
    EWS = "EWS"
    IMAP = "IMAP"
    ICLOUD = "iCloud"
    ZOHO = "Zoho"

    @classmethod
    def parse(cls, value: object, *, field: str = "serviceType") -> ServiceType:
        for member in cls:
            if isinstance(value, str) and value.strip().lower() == member.value.lower():
                return member
        raise InvalidInput(f"{field} must be one of {', '.join(cls)}, not {str(value)[:32]!r}", field=field)


MAIL_SCOPES = ("Mail.Read", "Mail.ReadWrite", "Mail.Send", "Mail.Drafts", "Mail.All")
DEFAULT_SCOPES = ("Mail.Read", "Mail.Send")


def parse_scopes(values: Iterable[object] | None, *, field: str = "scopes") -> tuple[str, ...]:
    """Mail scopes, each once, in the order given; none given: read and send."""
    if values is None:
        return DEFAULT_SCOPES
    known = {scope.lower(): scope for scope in MAIL_SCOPES}
    parsed: list[str] = []
    for index, value in enumerate(values):
        scope = known.get(str(value).strip().lower()) if isinstance(value, str) else None
        if scope is None:
            raise InvalidInput(
                f"{field}[{index}] must be one of {', '.join(MAIL_SCOPES)}, not {str(value)[:32]!r}", field=field
            )
        if scope not in parsed:
            parsed.append(scope)
    if not parsed:
        raise InvalidInput(f"{field} must name at least one scope", field=field)
    return tuple(parsed)


class ConnectionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    NEEDS_RECONNECT = "NEEDS_RECONNECT"
    DISCONNECTED = "DISCONNECTED"


# --- errors ------------------------------------------------------------------------------------


class AurinkoNotConfigured(DomainError):
    code = "AURINKO_NOT_CONFIGURED"


class InvalidOAuthState(DomainError):
    """The ``state`` is not ours, expired, for another tenant or user, or used already."""

    code = "INVALID_OAUTH_STATE"


class AurinkoNotConnected(DomainError):
    code = "AURINKO_NOT_CONNECTED"


class AurinkoNeedsReconnect(DomainError):
    code = "AURINKO_NEEDS_RECONNECT"


class AurinkoUnavailable(DomainError):
    """Aurinko could not be reached or failed (timeout, 5xx, 429, malformed answer): try again later."""

    code = "AURINKO_UNAVAILABLE"


class AurinkoRefused(DomainError):
    """Aurinko refused the request (an unknown or used authorization code, ...)."""

    code = "AURINKO_REFUSED"


# --- the connection -----------------------------------------------------------------------------

MAX_REASON = 300


def token_context(tenant_id: str, connection_id: str) -> str:
    """What the sealed access token is bound to: this tenant's connection row, and no other."""
    return f"aurinko:{tenant_id}:{connection_id}"


class AurinkoConnection(Aggregate):
    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        status: ConnectionStatus,
        account_id: str,
        email: str | None,
        service_type: ServiceType,
        scopes: str,
        token_sealed: str | None,
        connected_by: str | None,
        connected_at: datetime,
        updated_at: datetime,
        reconnect_reason: str | None = None,
        last_sync_at: datetime | None = None,
        last_sync_error: str | None = None,
        sync_updated_token: str | None = None,
        sync_deleted_token: str | None = None,
        sync_lease_until: datetime | None = None,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.status = status
        self.account_id = account_id
        self.email = email
        self.service_type = service_type
        self.scopes = scopes
        self.token_sealed = token_sealed
        self.connected_by = connected_by
        self.connected_at = connected_at
        self.updated_at = updated_at
        self.reconnect_reason = reconnect_reason
        self.last_sync_at = last_sync_at
        self.last_sync_error = last_sync_error
        self.sync_updated_token = sync_updated_token
        self.sync_deleted_token = sync_deleted_token
        self.sync_lease_until = sync_lease_until

    @property
    def token_context(self) -> str:
        return token_context(self.tenant_id, self.id)

    @property
    def active(self) -> bool:
        return ConnectionStatus(self.status) is ConnectionStatus.ACTIVE and self.token_sealed is not None

    @classmethod
    def new_id(cls) -> str:
        return new_id()

    @classmethod
    def connect(
        cls,
        *,
        id: str,
        tenant_id: str,
        account_id: str,
        email: str | None,
        service_type: ServiceType,
        scopes: tuple[str, ...],
        token_sealed: str,
        user_id: str,
        now: datetime,
    ) -> AurinkoConnection:
        connection = cls(
            id=id,
            tenant_id=tenant_id,
            status=ConnectionStatus.ACTIVE,
            account_id=account_id,
            email=email,
            service_type=service_type,
            scopes=" ".join(scopes),
            token_sealed=token_sealed,
            connected_by=user_id,
            connected_at=now,
            updated_at=now,
        )
        return connection

    def reconnect(
        self,
        *,
        account_id: str,
        email: str | None,
        service_type: ServiceType,
        scopes: tuple[str, ...],
        token_sealed: str,
        user_id: str,
        now: datetime,
    ) -> None:
        """The tenant connected again (the same or another mailbox): a fresh token, ACTIVE.
        Another mailbox account starts its inbox sync from the beginning."""
        if account_id != self.account_id:
            self.sync_updated_token = self.sync_deleted_token = None
            self.last_sync_at = None
        self.account_id = account_id
        self.email = email
        self.service_type = service_type
        self.scopes = " ".join(scopes)
        self.token_sealed = token_sealed
        self.status = ConnectionStatus.ACTIVE
        self.reconnect_reason = None
        self.last_sync_error = None
        self.connected_by = user_id
        self.connected_at = now
        self.updated_at = now

    def mark_needs_reconnect(self, reason: str, *, now: datetime) -> bool:
        """Aurinko no longer takes the token. False if it was not ACTIVE (nothing changes)."""
        if ConnectionStatus(self.status) is not ConnectionStatus.ACTIVE:
            return False
        self.status = ConnectionStatus.NEEDS_RECONNECT
        self.reconnect_reason = reason[:MAX_REASON]
        self.updated_at = now
        return True

    def disconnect(self, *, now: datetime) -> None:
        """The token is deleted; the account, its synced messages and delta tokens are forgotten
        as far as syncing goes (connecting again starts over)."""
        self.status = ConnectionStatus.DISCONNECTED
        self.token_sealed = None
        self.sync_updated_token = self.sync_deleted_token = None
        self.sync_lease_until = None
        self.updated_at = now

    def synced(self, *, updated_token: str | None, deleted_token: str | None, now: datetime) -> None:
        self.sync_updated_token = updated_token
        self.sync_deleted_token = deleted_token
        self.last_sync_at = now
        self.last_sync_error = None
        self.updated_at = now

    def sync_failed(self, reason: str, *, now: datetime) -> None:
        self.last_sync_error = reason[:MAX_REASON]
        self.updated_at = now
