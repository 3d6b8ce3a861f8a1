"""Ports of the QuickBooks connector: Intuit's OAuth, the Accounting API, the per-realm rate gate,
the stores and readers.

Provider failures are told apart by what they call for: ``QboUnavailable`` (timeout, connection
error, 5xx, 429 with its ``Retry-After``) is worth retrying; ``GrantInvalid`` (``invalid_grant``)
means the tenant must connect again; ``AccessRejected`` (401 on the API) asks for a refresh;
``QboFault`` is QuickBooks refusing the object (also when it says so with HTTP 200), with its code,
message and element. Reasons carry no token or secret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from application.integrations.quickbooks.views import ConnectionView, SyncItemCursor, SyncItemView
from application.jobs.ports import JobsUnitOfWork
from domain.integrations.quickbooks.connection import CurrencyPrefs, QuickbooksConnection
from domain.integrations.quickbooks.links import SyncKind, SyncLink, SyncStatus

# --- provider errors ---------------------------------------------------------------------------


class QboError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class QboUnavailable(QboError):
    def __init__(self, reason: str, *, retry_after: timedelta | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class GrantInvalid(QboError):
    """The token endpoint answered ``invalid_grant`` (a used, revoked or expired refresh token, or code)."""


class OAuthRefused(QboError):
    """The token endpoint refused for another reason (``invalid_client``, ...)."""


class AccessRejected(QboError):
    """401 from the Accounting API: the access token is not taken (refresh, then try once more)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultError:
    code: str | None
    message: str
    detail: str | None
    element: str | None


class QboFault(QboError):
    """QuickBooks refused the request: its ``Fault`` (first error named; HTTP 200 or 4xx alike)."""

    STALE_OBJECT = "5010"
    DUPLICATE_NAME = "6240"
    NOT_FOUND = "610"

    def __init__(self, errors: Sequence[FaultError], *, status: int, fault_type: str | None = None) -> None:
        first = errors[0] if errors else FaultError(code=None, message="QuickBooks refused the request", detail=None, element=None)
        text = first.message + (f": {first.detail}" if first.detail and first.detail != first.message else "")
        super().__init__(f"QuickBooks fault {first.code or '?'}: {text}"[:1000])
        self.errors = tuple(errors)
        self.status = status
        self.fault_type = fault_type
        self.code = first.code
        self.message = text[:1000]
        self.element = first.element

    def has(self, code: str) -> bool:
        return any(error.code == code for error in self.errors)

    @property
    def duplicate_doc_number(self) -> bool:
        """Codes differ between sources (6140, 6210): matched on the message."""
        return any("duplicate document number" in (e.message + " " + (e.detail or "")).lower() for e in self.errors)


# --- provider ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenGrant:
    access_token: str
    refresh_token: str
    expires_in: int
    """Seconds the access token lives (3,600)."""
    refresh_expires_in: int | None
    refresh_hard_expires_in: int | None

    def __repr__(self) -> str:  # never the tokens, whoever prints it
        return f"TokenGrant(expires_in={self.expires_in}, refresh_expires_in={self.refresh_expires_in})"


class QuickbooksOAuth(Protocol):
    @property
    def configured(self) -> bool: ...

    def authorize_url(self, *, state: str) -> str: ...

    def exchange_code(self, code: str, *, realm_id: str) -> TokenGrant: ...

    def refresh(self, refresh_token: str) -> TokenGrant: ...

    def revoke(self, token: str) -> None: ...


class QuickbooksApi(Protocol):
    """The Accounting API of one company (``realm_id``) with a valid access token."""

    def create(self, realm_id: str, token: str, entity: str, body: Mapping[str, Any], *, request_id: str) -> dict[str, Any]:
        """``POST /v3/company/{realm}/{entity}?requestid=...``: the object QuickBooks holds."""
        ...

    def update(
        self, realm_id: str, token: str, entity: str, body: Mapping[str, Any], *, request_id: str,
        operation: str | None = None,
    ) -> dict[str, Any]:
        """A sparse update (``body`` has ``Id``, ``SyncToken`` and ``sparse``), or ``operation=void``."""
        ...

    def read(self, realm_id: str, token: str, entity: str, qbo_id: str) -> dict[str, Any]: ...

    def query(self, realm_id: str, token: str, statement: str) -> list[dict[str, Any]]:
        """``GET /query``: the objects of the one entity the statement selects."""
        ...

    def company_name(self, realm_id: str, token: str) -> str | None: ...

    def currency(self, realm_id: str, token: str) -> CurrencyPrefs:
        """The company's home currency and whether multicurrency is on (``preferences``)."""
        ...

    def changes(
        self, realm_id: str, token: str, entities: Sequence[str], since: datetime
    ) -> dict[str, list[dict[str, Any]]]:
        """``GET /cdc``: objects of ``entities`` changed since ``since``, by entity name."""
        ...


class RateGate(Protocol):
    """The per-realm budget shared by every worker: 500 requests a minute, 10 at a time."""

    def acquire(self, realm_id: str, *, requests: int = 1) -> str:
        """A slot (its id) for ``requests`` requests sent one after another, all counted in the
        minute's budget at once; ``QboUnavailable`` with a ``retry_after`` when no slot is free or
        the budget cannot take them."""
        ...

    def release(self, realm_id: str, slot: str, *, unused: int = 0) -> None:
        """The slot is free again; ``unused`` of the requests it counted were not sent (given back
        to the minute's budget if it is still that minute)."""
        ...


# --- stores ------------------------------------------------------------------------------------


class QuickbooksConnectionRepository(Protocol):
    """``uow.quickbooks_connections``: the tenant's connection (one at most)."""

    def get(self) -> QuickbooksConnection | None: ...

    def get_for_update(self) -> QuickbooksConnection | None:
        """The connection, its row locked until the transaction ends and read after the lock."""
        ...

    def add(self, connection: QuickbooksConnection) -> None: ...

    def claim_catch_up(self, *, now: datetime, until: datetime) -> bool:
        """Take the connection's catch-up lease unless another run holds an unexpired one."""
        ...

    def release_catch_up(self) -> None: ...


class QuickbooksStateStore(Protocol):
    """``uow.quickbooks_states``: nonces of OAuth states already used."""

    def consume(self, nonce: str, *, expires_at: datetime, now: datetime) -> bool: ...


class SyncLinkRepository(Protocol):
    """``uow.quickbooks_links``: the tenant's links (the mapping table and the sync items)."""

    def get(self, link_id: str) -> SyncLink | None: ...

    def of(self, kind: SyncKind, local_id: str) -> SyncLink | None: ...

    def of_many(self, kind: SyncKind, local_ids: Sequence[str]) -> dict[str, SyncLink]:
        """The links of these records, by local id (a record without one is left out)."""
        ...

    def by_qbo_id(self, kind: SyncKind, qbo_id: str) -> SyncLink | None: ...

    def of_qbo_payment(self, payment_id: str) -> list[SyncLink]:
        """The links of a QuickBooks Payment: the one sent from here (its ``Id``) and those made from
        its lines (``{Id}:{invoice Id}``)."""
        ...

    def add(self, link: SyncLink) -> None: ...

    def remove_unlinked(self, kind: SyncKind, local_id: str) -> int:
        """Delete the link of this record if it has no QuickBooks Id yet (at once); how many were."""
        ...

    def counts(self) -> dict[SyncStatus, int]: ...

    def forget_all(self) -> int:
        """Delete every link (the tenant connected another company): how many were."""
        ...


class QuickbooksReader(Protocol):
    """``uow.quickbooks_views``."""

    def connection(self) -> ConnectionView | None: ...

    def items(self, status: SyncStatus | None, *, first: int, after: SyncItemCursor | None) -> list[SyncItemView]:
        """Most recently changed first, by (updated_at, id)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RealmRef:
    tenant_id: str
    connection_id: str


class QuickbooksDirectory(Protocol):
    """``uow.quickbooks_directory``: across tenants (system work: schedules, webhooks)."""

    def connected(self) -> list[RealmRef]: ...

    def by_realm(self, realm_id: str) -> RealmRef | None:
        """The CONNECTED connection of this company, if any."""
        ...

    def realm_taken(self, realm_id: str, *, except_tenant: str) -> bool:
        """Another tenant has this company CONNECTED or NEEDS_RECONNECT."""
        ...


class QuickbooksUnitOfWork(JobsUnitOfWork, Protocol):
    quickbooks_connections: QuickbooksConnectionRepository
    quickbooks_states: QuickbooksStateStore
    quickbooks_links: SyncLinkRepository
    quickbooks_views: QuickbooksReader
    quickbooks_directory: QuickbooksDirectory
    """Across tenants: only in a unit of work without a tenant (system work)."""
