"""In-memory fakes of the Aurinko connector's ports, for handler tests through the bus.

``FakeAurinkoStore`` is what the database would hold; ``FakeAurinkoUnitOfWork`` works on a copy of
it inside its ``with`` block and writes it back on ``commit()`` (leaving without committing drops
the copy), with the unit of work's tenant binding. ``FakeOAuthProvider`` and ``FakeInboxProvider``
play Aurinko by returning or raising what the test scripted, and record every call.
``tests/integration/test_aurinko_store_contract.py`` runs one contract against these stores and the
SQLAlchemy adapters, so they cannot drift.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

from application.integrations.aurinko.handlers import connection_view
from application.integrations.aurinko.ports import (
    ConnectionRef,
    MessageWrite,
    OAuthGrant,
    StoredMessage,
    SyncPage,
    SyncStart,
)
from application.integrations.aurinko.views import AurinkoConnectionView
from domain.integrations.aurinko.connection import AurinkoConnection, ServiceType
from domain.integrations.aurinko.inbox import InboundMessage
from domain.shared.model import DomainEvent, new_id


@dataclass
class FakeAurinkoStore:
    connections: dict[str, AurinkoConnection] = field(default_factory=dict)  # by tenant
    nonces: dict[str, datetime] = field(default_factory=dict)  # nonce -> expires_at
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # by row id
    jobs: list[dict[str, Any]] = field(default_factory=list)
    commits: int = 0


class _Connections:
    def __init__(self, work: dict[str, Any], tenant_id: str) -> None:
        self._work, self._tenant_id = work, tenant_id

    def get(self) -> AurinkoConnection | None:
        return self._work["connections"].get(self._tenant_id)

    def add(self, connection: AurinkoConnection) -> None:
        if connection.tenant_id != self._tenant_id:
            raise PermissionError("a connection of another tenant cannot be added here")
        self._work["connections"][self._tenant_id] = connection

    def claim_sync(self, connection_id: str, *, now: datetime, until: datetime) -> bool:
        connection = self.get()
        if connection is None or connection.id != connection_id:
            return False
        if connection.sync_lease_until is not None and connection.sync_lease_until >= now:
            return False
        connection.sync_lease_until = until
        return True

    def extend_sync(self, connection_id: str, *, until: datetime) -> None:
        connection = self.get()
        if connection is not None and connection.id == connection_id and connection.sync_lease_until is not None:
            connection.sync_lease_until = until

    def release_sync(self, connection_id: str) -> None:
        connection = self.get()
        if connection is not None and connection.id == connection_id:
            connection.sync_lease_until = None


class _ConnectionViews:
    def __init__(self, work: dict[str, Any], tenant_id: str) -> None:
        self._work, self._tenant_id = work, tenant_id

    def get(self) -> AurinkoConnectionView | None:
        connection = self._work["connections"].get(self._tenant_id)
        return connection_view(connection) if connection else None


class _States:
    def __init__(self, work: dict[str, Any]) -> None:
        self._work = work

    def consume(self, nonce: str, *, expires_at: datetime, now: datetime) -> bool:
        nonces = self._work["nonces"]
        for expired in [n for n, until in nonces.items() if until < now]:  # as the adapter purges them
            del nonces[expired]
        if nonce in nonces:
            return False
        nonces[nonce] = expires_at
        return True


class _Inbox:
    def __init__(self, work: dict[str, Any], tenant_id: str) -> None:
        self._work, self._tenant_id = work, tenant_id

    def _mine(self, account_id: str) -> list[dict[str, Any]]:
        return [m for m in self._work["messages"].values() if (m["tenant_id"], m["account_id"]) == (self._tenant_id, account_id)]

    def existing(self, account_id: str, provider_ids: Sequence[str], internet_message_ids: Sequence[str]) -> list[StoredMessage]:
        return [
            StoredMessage(id=m["id"], provider_id=m["message"].provider_id,
                          internet_message_id=m["message"].internet_message_id,
                          fingerprint=m["fingerprint"], deleted=m["deleted_at"] is not None)
            for m in self._mine(account_id)
            if m["message"].provider_id in provider_ids or m["message"].internet_message_id in internet_message_ids
        ]

    def insert(self, account_id: str, writes: Sequence[MessageWrite], *, now: datetime) -> None:
        for write in writes:
            if any(m["message"].provider_id == write.message.provider_id for m in self._mine(account_id)):
                raise AssertionError("the unique (tenant, account, provider id) would refuse this")
            self._work["messages"][write.id] = {
                "id": write.id, "tenant_id": self._tenant_id, "account_id": account_id, "message": write.message,
                "fingerprint": write.fingerprint, "deleted_at": None, "writes": 1,
            }

    def update(self, account_id: str, writes: Sequence[MessageWrite], *, now: datetime) -> None:
        for write in writes:
            row = self._work["messages"][write.id]
            row.update(message=write.message, fingerprint=write.fingerprint, deleted_at=None, writes=row["writes"] + 1)

    def refresh_statistics(self) -> None:
        self._work["statistics_refreshed"] = self._work.get("statistics_refreshed", 0) + 1

    def mark_deleted(self, account_id: str, provider_ids: Sequence[str], *, now: datetime) -> int:
        count = 0
        for row in self._mine(account_id):
            if row["message"].provider_id in provider_ids and row["deleted_at"] is None:
                row["deleted_at"] = now
                count += 1
        return count


class _Jobs:
    def __init__(self, work: dict[str, Any], tenant_id: str | None) -> None:
        self._work, self._tenant_id = work, tenant_id

    def enqueue(self, kind: str, payload: Any = None, *, tenant_id: str | None = None,
                idempotency_key: str | None = None, run_at: datetime | None = None,
                max_attempts: int | None = None) -> str:
        for job in self._work["jobs"]:
            if idempotency_key is not None and (job["kind"], job["key"]) == (kind, idempotency_key):
                return job["id"]
        job = {"id": new_id(), "kind": kind, "payload": dict(payload or {}), "key": idempotency_key,
               "tenant_id": self._tenant_id or tenant_id}
        self._work["jobs"].append(job)
        return job["id"]


class _Directory:
    def __init__(self, work: dict[str, Any]) -> None:
        self._work = work

    def active_connections(self) -> list[ConnectionRef]:
        active = sorted((c for c in self._work["connections"].values() if c.active), key=lambda c: c.id)  # as the adapter
        return [ConnectionRef(tenant_id=c.tenant_id, connection_id=c.id) for c in active]

    def by_account(self, account_id: str) -> ConnectionRef | None:
        found = [c for c in self._work["connections"].values() if c.active and c.account_id == account_id]
        return ConnectionRef(tenant_id=found[0].tenant_id, connection_id=found[0].id) if len(found) == 1 else None


class FakeAurinkoUnitOfWork:
    def __init__(self, store: FakeAurinkoStore, tenant_id: str | None) -> None:
        self._store, self._tenant_id = store, tenant_id
        self._work: dict[str, Any] | None = None
        self._events: list[DomainEvent] = []

    def __enter__(self) -> FakeAurinkoUnitOfWork:
        if self._work is not None:
            raise RuntimeError("the unit of work is already open")
        work = self._work = {
            "connections": copy.deepcopy(self._store.connections), "nonces": dict(self._store.nonces),
            "messages": copy.deepcopy(self._store.messages), "jobs": copy.deepcopy(self._store.jobs),
        }
        self.jobs = _Jobs(work, self._tenant_id)
        if self._tenant_id is None:
            self.aurinko_directory = _Directory(work)
        else:
            self.aurinko_connections = _Connections(work, self._tenant_id)
            self.aurinko_connection_views = _ConnectionViews(work, self._tenant_id)
            self.oauth_states = _States(work)
            self.inbox = _Inbox(work, self._tenant_id)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._work = None

    def commit(self) -> None:
        work = self._work
        assert work is not None, "commit outside the with block"
        for connection in work["connections"].values():
            self._events.extend(connection.pull_events())
        self._store.connections = copy.deepcopy(work["connections"])
        self._store.nonces = dict(work["nonces"])
        self._store.messages = copy.deepcopy(work["messages"])
        self._store.jobs = copy.deepcopy(work["jobs"])
        self._store.commits += 1

    def rollback(self) -> None:
        self._work = None

    def collect_events(self) -> list[DomainEvent]:
        events, self._events = self._events, []
        return events


@dataclass
class FakeOAuthProvider:
    grants: dict[str, OAuthGrant] = field(default_factory=dict)
    failure: Exception | None = None
    calls: list[tuple[str, str]] = field(default_factory=list)

    def authorize_url(self, *, service_type: ServiceType, scopes: Sequence[str], return_url: str, state: str) -> str:
        return f"https://aurinko.test/authorize?serviceType={service_type.value}&state={state}"

    def exchange_code(self, code: str) -> OAuthGrant:
        self.calls.append(("exchange", code))
        if self.failure is not None:
            raise self.failure
        return self.grants[code]

    def account_email(self, access_token: str) -> str | None:
        return "ventas@pyme.pa"

    def revoke(self, access_token: str) -> None:
        self.calls.append(("revoke", access_token))


@dataclass
class FakeInboxProvider:
    """Answers from scripted lists: ``starts`` (SyncStart or an exception to raise), then pages."""

    starts: list[Any] = field(default_factory=list)
    updated_pages: list[Any] = field(default_factory=list)
    deleted_pages: list[Any] = field(default_factory=list)
    calls: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    @staticmethod
    def _next(script: list[Any]) -> Any:
        answer = script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def start_sync(self, access_token: str, *, days_within: int) -> SyncStart:
        self.calls.append(("start", None, None))
        return self._next(self.starts)

    def updated(self, access_token: str, *, delta_token: str | None = None, page_token: str | None = None) -> SyncPage[InboundMessage]:
        self.calls.append(("updated", delta_token, page_token))
        return self._next(self.updated_pages)

    def deleted(self, access_token: str, *, delta_token: str | None = None, page_token: str | None = None) -> SyncPage[str]:
        self.calls.append(("deleted", delta_token, page_token))
        return self._next(self.deleted_pages)
