"""The Aurinko connection on SQLAlchemy: the tenant's connection, used OAuth states, its reader and
the directory across tenants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from adapters.db.integrations.aurinko.tables import aurinko_connections, aurinko_oauth_states
from adapters.db.repository import TenantRepository
from application.integrations.aurinko.ports import ConnectionRef
from application.integrations.aurinko.views import AurinkoConnectionView
from domain.integrations.aurinko.connection import AurinkoConnection, ConnectionStatus, ServiceType


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


class SqlAlchemyAurinkoConnectionRepository(TenantRepository[AurinkoConnection]):
    kind = "Aurinko connection"

    def get(self) -> AurinkoConnection | None:
        return self._one(select(AurinkoConnection).where(aurinko_connections.c.tenant_id == self._tenant_id))

    def _mine(self, connection_id: str) -> Any:
        return and_(aurinko_connections.c.id == connection_id, aurinko_connections.c.tenant_id == self._tenant_id)

    def claim_sync(self, connection_id: str, *, now: datetime, until: datetime) -> bool:
        lease = aurinko_connections.c.sync_lease_until
        result = self._session.execute(
            update(aurinko_connections)
            .where(self._mine(connection_id), or_(lease.is_(None), lease < now))
            .values(sync_lease_until=until)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)

    def extend_sync(self, connection_id: str, *, until: datetime) -> None:
        self._session.execute(
            update(aurinko_connections)
            .where(self._mine(connection_id), aurinko_connections.c.sync_lease_until.is_not(None))
            .values(sync_lease_until=until)
            .execution_options(synchronize_session=False)
        )

    def release_sync(self, connection_id: str) -> None:
        self._session.execute(
            update(aurinko_connections)
            .where(self._mine(connection_id))
            .values(sync_lease_until=None)
            .execution_options(synchronize_session=False)
        )


class SqlAlchemyOAuthStateStore:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def consume(self, nonce: str, *, expires_at: datetime, now: datetime) -> bool:
        self._session.execute(delete(aurinko_oauth_states).where(aurinko_oauth_states.c.expires_at < now))
        statement = (
            _insert(self._session)(aurinko_oauth_states)
            .values(nonce=nonce, tenant_id=self._tenant_id, expires_at=expires_at, used_at=now)
            .on_conflict_do_nothing(index_elements=["nonce"])
            .returning(aurinko_oauth_states.c.nonce)
        )
        # RETURNING, not rowcount: drivers differ on the rowcount of ON CONFLICT DO NOTHING.
        return self._session.execute(statement).first() is not None


def connection_view_of(row: Any) -> AurinkoConnectionView:
    return AurinkoConnectionView(
        id=row.id,
        status=ConnectionStatus(row.status),
        account_id=row.account_id,
        email=row.email,
        service_type=ServiceType(row.service_type),
        scopes=tuple(row.scopes.split()),
        connected_at=row.connected_at,
        reconnect_reason=row.reconnect_reason,
        last_sync_at=row.last_sync_at,
        last_sync_error=row.last_sync_error,
    )


_VIEW_COLUMNS = [
    c for c in aurinko_connections.c if c.name not in ("token_sealed", "sync_updated_token", "sync_deleted_token")
]


class SqlAlchemyAurinkoConnectionReader:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def get(self) -> AurinkoConnectionView | None:
        row = self._session.execute(
            select(*_VIEW_COLUMNS).where(aurinko_connections.c.tenant_id == self._tenant_id)
        ).first()
        return connection_view_of(row) if row is not None else None


class SqlAlchemyAurinkoDirectory:
    """Across tenants: for system work only (schedules, webhooks)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _active(self) -> Select[Any]:
        return select(aurinko_connections.c.tenant_id, aurinko_connections.c.id).where(
            aurinko_connections.c.status == ConnectionStatus.ACTIVE.value,
            aurinko_connections.c.token_sealed.is_not(None),
        )

    def active_connections(self) -> list[ConnectionRef]:
        rows = self._session.execute(self._active().order_by(aurinko_connections.c.id))
        return [ConnectionRef(tenant_id=row.tenant_id, connection_id=row.id) for row in rows]

    def by_account(self, account_id: str) -> ConnectionRef | None:
        rows = list(
            self._session.execute(self._active().where(aurinko_connections.c.account_id == account_id).limit(2))
        )
        if len(rows) != 1:
            return None  # unknown, or (an account connected by two tenants) ambiguous: match none
        return ConnectionRef(tenant_id=rows[0].tenant_id, connection_id=rows[0].id)
