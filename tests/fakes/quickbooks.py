"""In-memory fakes of the QuickBooks connection's ports, for the token tests.

``FakeConnectionsUnitOfWork`` keeps the tenant's connection as a store would: a ``with`` block works
on a copy, ``commit()`` writes it back, leaving without committing drops it. ``FakeIntuitOAuth``
plays Intuit's token endpoint: rotating refresh tokens, ``invalid_grant`` for a used one, and a
scripted failure. ``tests/integration/test_quickbooks_store_contract.py`` runs one contract against
the fake connections and the SQLAlchemy repository.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

from application.integrations.quickbooks.ports import GrantInvalid, TokenGrant
from domain.integrations.quickbooks.connection import QuickbooksConnection
from domain.shared.model import DomainEvent


@dataclass
class FakeConnectionsStore:
    connections: dict[str, QuickbooksConnection] = field(default_factory=dict)  # by tenant
    commits: int = 0


class FakeConnections:
    def __init__(self, work: dict[str, QuickbooksConnection], tenant_id: str) -> None:
        self._work, self._tenant_id = work, tenant_id
        self.locked = 0

    def get(self) -> QuickbooksConnection | None:
        return self._work.get(self._tenant_id)

    def get_for_update(self) -> QuickbooksConnection | None:
        self.locked += 1
        return self.get()

    def add(self, connection: QuickbooksConnection) -> None:
        if connection.tenant_id != self._tenant_id:
            raise PermissionError("a QuickBooks connection of another tenant cannot be added here")
        self._work[self._tenant_id] = connection

    def claim_catch_up(self, *, now: datetime, until: datetime) -> bool:
        connection = self.get()
        if connection is None or (connection.cdc_lease_until is not None and connection.cdc_lease_until >= now):
            return False
        connection.cdc_lease_until = until
        return True

    def release_catch_up(self) -> None:
        connection = self.get()
        if connection is not None:
            connection.cdc_lease_until = None


class FakeConnectionsUnitOfWork:
    def __init__(self, store: FakeConnectionsStore, tenant_id: str) -> None:
        self._store, self._tenant_id = store, tenant_id
        self._work: dict[str, QuickbooksConnection] | None = None
        self.locks = 0

    def __enter__(self) -> FakeConnectionsUnitOfWork:
        if self._work is not None:
            raise RuntimeError("the unit of work is already open")
        self._work = copy.deepcopy(self._store.connections)
        self.quickbooks_connections = FakeConnections(self._work, self._tenant_id)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.locks += self.quickbooks_connections.locked
        self._work = None

    def commit(self) -> None:
        assert self._work is not None, "commit outside the with block"
        self._store.connections = copy.deepcopy(self._work)
        self._store.commits += 1

    def rollback(self) -> None:
        self._work = None

    def collect_events(self) -> list[DomainEvent]:
        return []


@dataclass
class FakeIntuitOAuth:
    """Rotating refresh tokens: each refresh kills the one it used and issues a new pair."""

    live: set[str] = field(default_factory=set)
    failure: Exception | None = None
    refreshes: list[str] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    @property
    def configured(self) -> bool:
        return True

    def issue(self) -> TokenGrant:
        n = next(self._ids)
        self.live.add(f"rt-{n}")
        return TokenGrant(access_token=f"at-{n}", refresh_token=f"rt-{n}", expires_in=3600,
                          refresh_expires_in=8726400, refresh_hard_expires_in=157680000)

    def authorize_url(self, *, state: str) -> str:
        return f"https://intuit.test/connect?state={state}"

    def exchange_code(self, code: str, *, realm_id: str) -> TokenGrant:
        return self.issue()

    def refresh(self, refresh_token: str) -> TokenGrant:
        self.refreshes.append(refresh_token)
        if self.failure is not None:
            raise self.failure
        if refresh_token not in self.live:
            raise GrantInvalid("Intuit answered 400 to refresh the token (invalid_grant)")
        self.live.discard(refresh_token)
        return self.issue()

    def revoke(self, token: str) -> None:
        self.live.discard(token)
