"""What the channels' message logs share on SQLAlchemy: the page of a log, and the messages left
SENDING across tenants and channels (the delivery sweep's query)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, or_, select, update
from sqlalchemy.orm import Session

from adapters.db.orm import email_messages, whatsapp_messages
from application.deliveries.ports import StaleDelivery
from application.deliveries.views import LogCursor
from domain.shared.delivery import DeliveryStatus

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


_CHANNELS: tuple[tuple[str, Table], ...] = (("email", email_messages), ("whatsapp", whatsapp_messages))


class SqlAlchemyStaleDeliveries:
    def __init__(self, session: Session) -> None:
        self._session = session

    def sending_since_before(self, cutoff: datetime, *, limit: int) -> list[StaleDelivery]:
        found: list[StaleDelivery] = []
        for channel, table in _CHANNELS:
            rows = self._session.execute(
                select(table.c.tenant_id, table.c.id)
                .where(table.c.status == DeliveryStatus.SENDING.value, table.c.updated_at < cutoff)
                .order_by(table.c.updated_at, table.c.id)
                .limit(limit - len(found))
            ).all()
            found += [StaleDelivery(channel, row.tenant_id, row.id) for row in rows]
            if len(found) >= limit:
                break
        return found
