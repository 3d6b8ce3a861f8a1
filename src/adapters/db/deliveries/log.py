"""What the channels' message logs share on SQLAlchemy: a delivery's attempts as a column, the page of
a log, SQLite's lock of a row, and a log's messages left SENDING (the delivery sweep's query)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, Select, Table, TypeDecorator, and_, or_, select, update
from sqlalchemy.orm import Session

from application.deliveries.views import LogCursor
from application.deliveries.ports import StaleDelivery
from domain.shared.delivery import DeliveryAttempt, DeliveryStatus

class DeliveryAttempts(TypeDecorator[tuple[DeliveryAttempt, ...]]):
    """A delivery's attempts (``domain.shared.delivery``), kept as a JSON list on the message's row
    (a few per message, read together): WhatsApp messages and email messages alike."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> list[dict[str, Any]] | None:
        return None if value is None else [attempt.to_json() for attempt in value]

    def process_result_value(self, value: Any, dialect: Any) -> tuple[DeliveryAttempt, ...]:
        return tuple(DeliveryAttempt.from_json(item) for item in (value or []))


def log_page(
    statement: Select[Any], table: Table, *, first: int, after: LogCursor | None, **equal: object
) -> Select[Any]:
    """``first`` rows of a log, newest first after ``after``, whose columns equal ``equal`` (None: any)."""
    c = table.c
    for column, value in equal.items():
        if value is not None:
            statement = statement.where(c[column] == value)
    if after is not None:
        statement = statement.where(
            or_(c.created_at < after.created_at, and_(c.created_at == after.created_at, c.id < after.message_id))
        )
    return statement.order_by(c.created_at.desc(), c.id.desc()).limit(first)


def lock_sqlite(session: Session, table: Table, *where: ColumnElement[bool]) -> bool:
    """SQLite has no row locks: a no-op write takes the database's write lock until the end of the
    transaction, so a concurrent change waits and then reads this one's result. False on a database
    with row locks (the caller selects ``FOR UPDATE``)."""
    if session.get_bind().dialect.name != "sqlite":
        return False
    session.execute(update(table).where(*where).values(retries=table.c.retries))
    return True


class SqlAlchemyStaleDeliveries:
    """One channel's log (``table``), across tenants: its messages SENDING since before a cutoff."""

    def __init__(self, session: Session, channel: str, table: Table) -> None:
        self._session = session
        self._channel = channel
        self._table = table

    def sending_since_before(self, cutoff: datetime, *, limit: int) -> list[StaleDelivery]:
        c = self._table.c
        rows = self._session.execute(
            select(c.tenant_id, c.id)
            .where(c.status == DeliveryStatus.SENDING.value, c.updated_at < cutoff)
            .order_by(c.updated_at, c.id)
            .limit(limit)
        ).all()
        return [StaleDelivery(self._channel, row.tenant_id, row.id) for row in rows]
