"""The QuickBooks connector on SQLAlchemy: the tenant's connection (with its row lock), used OAuth
states, the sync links, the reader and the directory across tenants."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from adapters.db.integrations.quickbooks.tables import qbo_connections, qbo_links, qbo_oauth_states
from adapters.db.repository import TenantRepository
from application.integrations.quickbooks.ports import RealmRef
from application.integrations.quickbooks.views import (
    ConnectionView,
    MappingsView,
    SyncItemCursor,
    SyncItemView,
    TaxCodeView,
)
from domain.integrations.quickbooks.connection import ConnectionStatus, QuickbooksConnection
from domain.integrations.quickbooks.links import Origin, SyncKind, SyncLink, SyncStatus


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


class SqlAlchemyQuickbooksConnectionRepository(TenantRepository[QuickbooksConnection]):
    kind = "QuickBooks connection"

    def _mine(self) -> Any:
        return qbo_connections.c.tenant_id == self._tenant_id

    def get(self) -> QuickbooksConnection | None:
        return self._one(select(QuickbooksConnection).where(self._mine()))

    def get_for_update(self) -> QuickbooksConnection | None:
        statement = select(QuickbooksConnection).where(self._mine())
        if self._session.get_bind().dialect.name == "sqlite":
            # No row locks on SQLite: a write takes the database's write lock until the transaction
            # ends, so a concurrent refresh waits here and then reads this one's result.
            self._session.execute(
                update(qbo_connections).where(self._mine()).values(realm_id=qbo_connections.c.realm_id)
                .execution_options(synchronize_session=False)
            )
        else:
            statement = statement.with_for_update()
        return self._one(statement)

    def claim_catch_up(self, *, now: datetime, until: datetime) -> bool:
        lease = qbo_connections.c.cdc_lease_until
        result = self._session.execute(
            update(qbo_connections).where(self._mine(), or_(lease.is_(None), lease < now))
            .values(cdc_lease_until=until).execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)

    def release_catch_up(self) -> None:
        self._session.execute(
            update(qbo_connections).where(self._mine()).values(cdc_lease_until=None)
            .execution_options(synchronize_session=False)
        )


class SqlAlchemyQuickbooksStateStore:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def consume(self, nonce: str, *, expires_at: datetime, now: datetime) -> bool:
        self._session.execute(delete(qbo_oauth_states).where(qbo_oauth_states.c.expires_at < now))
        statement = (
            _insert(self._session)(qbo_oauth_states)
            .values(nonce=nonce, tenant_id=self._tenant_id, expires_at=expires_at, used_at=now)
            .on_conflict_do_nothing(index_elements=["nonce"])
            .returning(qbo_oauth_states.c.nonce)
        )
        return self._session.execute(statement).first() is not None


class SqlAlchemySyncLinkRepository:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def _one(self, *where: Any) -> SyncLink | None:
        statement = select(SyncLink).where(qbo_links.c.tenant_id == self._tenant_id, *where)
        return self._session.scalars(statement.execution_options(populate_existing=True)).one_or_none()

    def get(self, link_id: str) -> SyncLink | None:
        return self._one(qbo_links.c.id == link_id)

    def of(self, kind: SyncKind, local_id: str) -> SyncLink | None:
        return self._one(qbo_links.c.kind == kind.value, qbo_links.c.local_id == local_id)

    def of_many(self, kind: SyncKind, local_ids: Sequence[str]) -> dict[str, SyncLink]:
        if not local_ids:
            return {}
        statement = select(SyncLink).where(
            qbo_links.c.tenant_id == self._tenant_id, qbo_links.c.kind == kind.value,
            qbo_links.c.local_id.in_(list(dict.fromkeys(local_ids))),
        )
        found = self._session.scalars(statement.execution_options(populate_existing=True))
        return {link.local_id: link for link in found if link.local_id is not None}

    def by_qbo_id(self, kind: SyncKind, qbo_id: str) -> SyncLink | None:
        return self._one(qbo_links.c.kind == kind.value, qbo_links.c.qbo_id == qbo_id)

    def of_qbo_payment(self, payment_id: str) -> list[SyncLink]:
        statement = select(SyncLink).where(
            qbo_links.c.tenant_id == self._tenant_id, qbo_links.c.kind == SyncKind.PAYMENT.value,
            or_(qbo_links.c.qbo_id == payment_id, qbo_links.c.qbo_id.startswith(f"{payment_id}:", autoescape=True)),
        )
        return list(self._session.scalars(statement.execution_options(populate_existing=True)))

    def add(self, link: SyncLink) -> None:
        if link.tenant_id != self._tenant_id:
            raise PermissionError("a sync link of another tenant cannot be added here")
        self._session.add(link)

    def remove_unlinked(self, kind: SyncKind, local_id: str) -> int:
        result = self._session.execute(
            delete(qbo_links)
            .where(qbo_links.c.tenant_id == self._tenant_id, qbo_links.c.kind == kind.value,
                   qbo_links.c.local_id == local_id, qbo_links.c.qbo_id.is_(None))
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)

    def counts(self) -> dict[SyncStatus, int]:
        return _counts(self._session, self._tenant_id)

    def forget_all(self) -> int:
        result = self._session.execute(
            delete(qbo_links).where(qbo_links.c.tenant_id == self._tenant_id).execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)


def _counts(session: Session, tenant_id: str) -> dict[SyncStatus, int]:
    rows = session.execute(
        select(qbo_links.c.status, func.count()).where(qbo_links.c.tenant_id == tenant_id).group_by(qbo_links.c.status)
    )
    found = {SyncStatus(status): int(count) for status, count in rows}
    return {status: found.get(status, 0) for status in SyncStatus}


_VIEW_COLUMNS = [c for c in qbo_connections.c if c.name not in ("access_sealed", "refresh_sealed")]


class SqlAlchemyQuickbooksReader:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def connection(self) -> ConnectionView | None:
        row = self._session.execute(
            select(*_VIEW_COLUMNS).where(qbo_connections.c.tenant_id == self._tenant_id)
        ).first()
        if row is None:
            return None
        counts = _counts(self._session, self._tenant_id)
        mappings = None
        if row.item_id and row.tax_codes:
            mappings = MappingsView(
                item_id=row.item_id,
                income_account_id=row.income_account_id,
                tax_codes=tuple(
                    TaxCodeView(rate=int(rate), tax_code_id=code)
                    for rate, code in sorted(row.tax_codes.items(), key=lambda item: int(item[0]))
                ),
            )
        return ConnectionView(
            id=row.id, realm_id=row.realm_id, company_name=row.company_name, status=ConnectionStatus(row.status),
            connected_at=row.connected_at, reconnect_reason=row.reconnect_reason,
            refresh_expires_at=row.refresh_expires_at, refresh_hard_expires_at=row.refresh_hard_expires_at,
            last_sync_at=row.last_sync_at, mappings=mappings, pending=counts[SyncStatus.PENDING],
            failed=counts[SyncStatus.FAILED], synced=counts[SyncStatus.SYNCED],
            inbound_applied=row.inbound_applied, inbound_ignored=row.inbound_ignored,
        )

    def items(self, status: SyncStatus | None, *, first: int, after: SyncItemCursor | None) -> list[SyncItemView]:
        statement = select(qbo_links).where(qbo_links.c.tenant_id == self._tenant_id)
        if status is not None:
            statement = statement.where(qbo_links.c.status == status.value)
        if after is not None:
            statement = statement.where(
                or_(
                    qbo_links.c.updated_at < after.updated_at,
                    and_(qbo_links.c.updated_at == after.updated_at, qbo_links.c.id < after.item_id),
                )
            )
        rows = self._session.execute(
            statement.order_by(qbo_links.c.updated_at.desc(), qbo_links.c.id.desc()).limit(first)
        )
        return [
            SyncItemView(
                id=r.id, kind=SyncKind(r.kind), local_id=r.local_id, qbo_id=r.qbo_id, sync_token=r.sync_token,
                status=SyncStatus(r.status), origin=Origin(r.origin), version=r.version, attempts=r.attempts,
                error_message=r.last_error, error_code=r.error_code, error_element=r.error_element,
                updated_at=r.updated_at, synced_at=r.synced_at,
            )
            for r in rows
        ]


class SqlAlchemyQuickbooksDirectory:
    """Across tenants: for system work only (schedules, webhooks, the one-realm-per-tenant check)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _connected(self) -> Any:
        return select(qbo_connections.c.tenant_id, qbo_connections.c.id).where(
            qbo_connections.c.status == ConnectionStatus.CONNECTED.value,
            qbo_connections.c.refresh_sealed.is_not(None),
        )

    def connected(self) -> list[RealmRef]:
        rows = self._session.execute(self._connected().order_by(qbo_connections.c.id))
        return [RealmRef(tenant_id=row.tenant_id, connection_id=row.id) for row in rows]

    def by_realm(self, realm_id: str) -> RealmRef | None:
        rows = list(self._session.execute(self._connected().where(qbo_connections.c.realm_id == realm_id).limit(2)))
        if len(rows) != 1:
            return None
        return RealmRef(tenant_id=rows[0].tenant_id, connection_id=rows[0].id)

    def realm_taken(self, realm_id: str, *, except_tenant: str) -> bool:
        found = self._session.execute(
            select(qbo_connections.c.id).where(
                qbo_connections.c.realm_id == realm_id,
                qbo_connections.c.tenant_id != except_tenant,
                qbo_connections.c.status != ConnectionStatus.DISCONNECTED.value,
            ).limit(1)
        ).first()
        return found is not None
