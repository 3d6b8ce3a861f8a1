"""The delivery sweep's query: messages left SENDING across tenants and channels."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from adapters.db.emails.tables import email_messages
from adapters.db.whatsapp.tables import whatsapp_messages
from application.deliveries.ports import StaleDelivery
from domain.shared.delivery import DeliveryStatus

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
