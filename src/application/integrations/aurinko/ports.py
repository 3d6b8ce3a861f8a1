"""Ports of the Aurinko connector: the provider (OAuth, inbox sync), the stores and readers.

Provider failures are told apart by what they call for: ``ProviderUnavailable`` (timeout,
connection error, 5xx, 408, 429 with its ``Retry-After``, a malformed answer) is worth retrying;
``TokenRejected`` (401 ``token.dead``, ``token.refresh.failed``, ``unauthorized``) means the tenant
must connect again; ``SyncTokenExpired`` (410 ``syncToken.expired``) restarts the sync;
``ProviderRefused`` (any other 4xx) will fail the same way again. Reasons are short and carry
no token, secret or message content.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from application.integrations.aurinko.views import AurinkoConnectionView, InboxCursor, InboxFilter, InboxMessageView
from application.jobs.ports import JobsUnitOfWork
from domain.integrations.aurinko.connection import AurinkoConnection, ServiceType
from domain.integrations.aurinko.inbox import InboundMessage

# --- provider errors ---------------------------------------------------------------------------


class ProviderError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ProviderUnavailable(ProviderError):
    def __init__(
        self, reason: str, *, retry_after: timedelta | None = None, maybe_processed: bool = False
    ) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.maybe_processed = maybe_processed
        """The whole request went out and its answer was lost (read timeout, connection dropped):
        Aurinko may have acted on it. False when it provably did not (could not connect, or answered)."""


class ProviderRefused(ProviderError):
    def __init__(self, reason: str, *, status: int) -> None:
        super().__init__(reason)
        self.status = status


class TokenRejected(ProviderError):
    """401: the account's token is dead; ``code`` is Aurinko's (``token.dead``, ...)."""

    def __init__(self, reason: str, *, code: str) -> None:
        super().__init__(reason)
        self.code = code


class SyncTokenExpired(ProviderError):
    """410 ``syncToken.expired``: the delta token is too old; the sync starts over."""


# --- provider ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthGrant:
    account_id: str
    access_token: str

    def __repr__(self) -> str:  # never the token, whoever prints it
        return f"OAuthGrant(account_id={self.account_id!r}, access_token='[redacted]')"


class OAuthProvider(Protocol):
    def authorize_url(
        self, *, service_type: ServiceType, scopes: Sequence[str], return_url: str, state: str
    ) -> str: ...

    def exchange_code(self, code: str) -> OAuthGrant:
        """``POST /v1/auth/token/{code}`` with the app's client id and secret."""
        ...

    def account_email(self, access_token: str) -> str | None:
        """The mailbox address of the account, if Aurinko tells it (best effort: None otherwise)."""
        ...

    def revoke(self, access_token: str) -> None:
        """``DELETE /v1/account/token``."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncStart:
    ready: bool
    updated_token: str | None
    deleted_token: str | None


T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncPage(Generic[T]):
    records: tuple[T, ...]
    next_page_token: str | None
    next_delta_token: str | None
    skipped: int = 0
    """Records that could not be read (no id): counted, never stored."""


class InboxProvider(Protocol):
    def start_sync(self, access_token: str, *, days_within: int) -> SyncStart: ...

    def updated(
        self, access_token: str, *, delta_token: str | None = None, page_token: str | None = None
    ) -> SyncPage[InboundMessage]: ...

    def deleted(
        self, access_token: str, *, delta_token: str | None = None, page_token: str | None = None
    ) -> SyncPage[str]:
        """Provider ids of messages deleted since the delta token."""
        ...


# --- stores ------------------------------------------------------------------------------------


class AurinkoConnectionRepository(Protocol):
    """``uow.aurinko_connections``: the tenant's connection (one at most)."""

    def get(self) -> AurinkoConnection | None: ...

    def add(self, connection: AurinkoConnection) -> None: ...

    def claim_sync(self, connection_id: str, *, now: datetime, until: datetime) -> bool:
        """Take the connection's sync lease unless another sync holds an unexpired one."""
        ...

    def extend_sync(self, connection_id: str, *, until: datetime) -> None:
        """Renew the lease of the sync that holds it (a long sync renews it page by page)."""
        ...

    def release_sync(self, connection_id: str) -> None: ...


class OAuthStateStore(Protocol):
    """``uow.oauth_states``: nonces of OAuth states already used."""

    def consume(self, nonce: str, *, expires_at: datetime, now: datetime) -> bool:
        """Record the nonce as used; False if it was used already (by this or another transaction,
        which then wins). Forgets nonces whose state has expired anyway."""
        ...


class AurinkoConnectionReader(Protocol):
    def get(self) -> AurinkoConnectionView | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredMessage:
    id: str
    provider_id: str
    internet_message_id: str | None
    fingerprint: str
    deleted: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageWrite:
    id: str
    message: InboundMessage
    fingerprint: str


class InboxStore(Protocol):
    """``uow.inbox``: the tenant's synced messages, written in bulk (a page at a time)."""

    def existing(
        self, account_id: str, provider_ids: Sequence[str], internet_message_ids: Sequence[str]
    ) -> list[StoredMessage]:
        """Messages of the account with one of these provider ids or internet message ids."""
        ...

    def insert(self, account_id: str, writes: Sequence[MessageWrite], *, now: datetime) -> None: ...

    def update(self, account_id: str, writes: Sequence[MessageWrite], *, now: datetime) -> None:
        """Rewrite these rows (by id) with the message as now reported, no longer deleted."""
        ...

    def mark_deleted(self, account_id: str, provider_ids: Sequence[str], *, now: datetime) -> int:
        """Mark these messages deleted (those not already); how many were."""
        ...

    def refresh_statistics(self) -> None:
        """After a bulk load: let the database's planner see how many messages there are now (so
        looking a page up keeps using the indexes). A no-op where there is nothing to refresh."""
        ...


class InboxReader(Protocol):
    def find(self, filter: InboxFilter, *, first: int, after: InboxCursor | None) -> list[InboxMessageView]:
        """Newest first by (received_at, id); ``search`` is a case-insensitive part of the subject,
        the sender or the snippet; ``client_id``: messages with one of the client's emails on them."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionRef:
    tenant_id: str
    connection_id: str


class AurinkoDirectory(Protocol):
    """``uow.aurinko_directory``: across tenants (system work: schedules, webhooks)."""

    def active_connections(self) -> list[ConnectionRef]: ...

    def by_account(self, account_id: str) -> ConnectionRef | None:
        """The ACTIVE connection of this Aurinko account, if any."""
        ...


class AurinkoUnitOfWork(JobsUnitOfWork, Protocol):
    aurinko_connections: AurinkoConnectionRepository
    aurinko_connection_views: AurinkoConnectionReader
    oauth_states: OAuthStateStore
    inbox: InboxStore
    inbox_views: InboxReader
    aurinko_directory: AurinkoDirectory
    """Across tenants: only in a unit of work without a tenant (system work)."""
