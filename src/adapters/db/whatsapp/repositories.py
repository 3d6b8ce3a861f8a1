"""WhatsApp on SQLAlchemy: the tenant-bound repository and reader, and the cross-tenant directory."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from adapters.db.deliveries.log import lock_sqlite, log_page
from adapters.db.whatsapp.tables import client_whatsapps, whatsapp_connections, whatsapp_messages, whatsapp_templates
from application.whatsapp.views import (
    ClientWhatsappView,
    WhatsappConnectionView,
    WhatsappMessageCursor,
    WhatsappMessageFilter,
    WhatsappMessageView,
    WhatsappRoute,
    WhatsappTemplateView,
)
from domain.shared.model import Aggregate
from domain.whatsapp.connection import ClientWhatsapp, WhatsappConnection, WhatsappTemplate
from domain.whatsapp.messages import Direction, InboundWhatsapp, WhatsappDelivery


class SqlAlchemyWhatsappRepository:
    def __init__(self, session: Session, tenant_id: str, seen: list[Aggregate]) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._seen = seen

    def _own(self, item: Any) -> Any:
        if item.tenant_id != self._tenant_id:
            raise PermissionError("a WhatsApp record of another tenant cannot be written here")
        if isinstance(item, Aggregate):
            self._seen.append(item)
        return item

    def _one(self, statement: Any) -> Any:
        found = self._session.scalars(statement.execution_options(populate_existing=True)).one_or_none()
        if isinstance(found, Aggregate):
            self._seen.append(found)
        return found

    # connection
    def connection(self) -> WhatsappConnection | None:
        return self._one(select(WhatsappConnection).where(whatsapp_connections.c.tenant_id == self._tenant_id))

    def add_connection(self, connection: WhatsappConnection) -> None:
        self._session.add(self._own(connection))

    def delete_connection(self, connection: WhatsappConnection) -> None:
        self._session.delete(self._own(connection))

    # numbers
    def number(self, number_id: str) -> ClientWhatsapp | None:
        return self._one(
            select(ClientWhatsapp).where(client_whatsapps.c.id == number_id, client_whatsapps.c.tenant_id == self._tenant_id)
        )

    def number_exists(self, client_id: str, phone: str) -> bool:
        return self._session.execute(
            select(client_whatsapps.c.id).where(
                client_whatsapps.c.tenant_id == self._tenant_id,
                client_whatsapps.c.client_id == client_id,
                client_whatsapps.c.phone == phone,
            )
        ).first() is not None

    def add_number(self, number: ClientWhatsapp) -> None:
        self._session.add(self._own(number))

    def delete_number(self, number: ClientWhatsapp) -> None:
        self._session.delete(self._own(number))

    # templates
    def template(self, template_id: str) -> WhatsappTemplate | None:
        return self._one(
            select(WhatsappTemplate).where(
                whatsapp_templates.c.id == template_id, whatsapp_templates.c.tenant_id == self._tenant_id
            )
        )

    def template_named(self, name: str, language: str) -> WhatsappTemplate | None:
        return self._one(
            select(WhatsappTemplate).where(
                whatsapp_templates.c.tenant_id == self._tenant_id,
                whatsapp_templates.c.name == name,
                whatsapp_templates.c.language == language,
            )
        )

    def add_template(self, template: WhatsappTemplate) -> None:
        self._session.add(self._own(template))

    def delete_template(self, template: WhatsappTemplate) -> None:
        self._session.delete(self._own(template))

    # messages
    def add_delivery(self, message: WhatsappDelivery) -> None:
        self._session.add(self._own(message))

    def add_inbound(self, message: InboundWhatsapp) -> None:
        self._session.add(self._own(message))

    def _lock_sqlite(self, *where: Any) -> bool:
        return lock_sqlite(self._session, whatsapp_messages, whatsapp_messages.c.tenant_id == self._tenant_id, *where)

    def message_for_update(self, message_id: str) -> WhatsappDelivery | None:
        m = whatsapp_messages.c
        statement = select(WhatsappDelivery).where(
            m.id == message_id, m.tenant_id == self._tenant_id, m.direction == Direction.OUTBOUND
        )
        if not self._lock_sqlite(m.id == message_id):
            statement = statement.with_for_update()
        return self._one(statement)

    def outbound_by_wamid(self, wamids: Sequence[str]) -> dict[str, WhatsappDelivery]:
        if not wamids:
            return {}
        where = (whatsapp_messages.c.wamid.in_(list(wamids)), whatsapp_messages.c.direction == Direction.OUTBOUND)
        statement = select(WhatsappDelivery).where(whatsapp_messages.c.tenant_id == self._tenant_id, *where)
        if not self._lock_sqlite(*where):
            statement = statement.order_by(whatsapp_messages.c.id).with_for_update()
        found = list(self._session.scalars(statement.execution_options(populate_existing=True)))
        self._seen.extend(found)
        return {message.wamid: message for message in found if message.wamid}

    def inbound_exists(self, wamid: str) -> bool:
        return self._session.execute(
            select(whatsapp_messages.c.id).where(
                whatsapp_messages.c.tenant_id == self._tenant_id, whatsapp_messages.c.wamid == wamid
            )
        ).first() is not None


_MESSAGE_FIELDS = tuple(
    name for name in (c.name for c in whatsapp_messages.c)
    if name not in ("tenant_id", "retries", "provider_at", "provider", "last_error", "attempts")
)


def _message_view(row: Row[Any]) -> WhatsappMessageView:
    values = row._mapping
    fields = {name: values[name] for name in _MESSAGE_FIELDS}
    fields["template_parameters"] = tuple(fields["template_parameters"] or ())
    return WhatsappMessageView(
        **fields, error_title=values["last_error"], attempts=len(values["attempts"]), attempt_log=values["attempts"]
    )


class SqlAlchemyWhatsappReader:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def connection(self) -> WhatsappConnectionView | None:
        c = whatsapp_connections.c
        row = self._session.execute(
            select(c.id, c.phone_number_id, c.waba_id, c.status, c.last_error, c.connected_at, c.updated_at)
            .where(c.tenant_id == self._tenant_id)
        ).one_or_none()
        return None if row is None else WhatsappConnectionView(**row._mapping)

    def numbers_of(self, client_ids: Sequence[str]) -> dict[str, list[ClientWhatsappView]]:
        if not client_ids:
            return {}
        c = client_whatsapps.c
        found: dict[str, list[ClientWhatsappView]] = defaultdict(list)
        for row in self._session.execute(
            select(c.id, c.client_id, c.phone, c.created_at)
            .where(c.tenant_id == self._tenant_id, c.client_id.in_(list(client_ids)))
            .order_by(c.created_at, c.id)
        ):
            found[row.client_id].append(ClientWhatsappView(**row._mapping))
        return dict(found)

    def clients_by_phone(self, phones: Sequence[str]) -> dict[str, str]:
        if not phones:
            return {}
        c = client_whatsapps.c
        found: dict[str, str] = {}
        for row in self._session.execute(
            select(c.phone, c.client_id)
            .where(c.tenant_id == self._tenant_id, c.phone.in_(list(phones)))
            .order_by(c.created_at, c.id)
        ):
            found.setdefault(row.phone, row.client_id)
        return found

    def templates(self) -> list[WhatsappTemplateView]:
        t = whatsapp_templates.c
        return [
            WhatsappTemplateView(**row._mapping)
            for row in self._session.execute(
                select(t.id, t.name, t.language, t.body_parameters, t.document_header, t.created_at)
                .where(t.tenant_id == self._tenant_id)
                .order_by(t.name, t.language)
            )
        ]

    def message(self, message_id: str) -> WhatsappMessageView | None:
        m = whatsapp_messages.c
        row = self._session.execute(
            select(whatsapp_messages).where(m.tenant_id == self._tenant_id, m.id == message_id)
        ).one_or_none()
        return None if row is None else _message_view(row)

    def messages(
        self, filter: WhatsappMessageFilter, *, first: int, after: WhatsappMessageCursor | None
    ) -> list[WhatsappMessageView]:
        m = whatsapp_messages.c
        statement = select(whatsapp_messages).where(m.tenant_id == self._tenant_id)
        if filter.statuses:
            statement = statement.where(m.status.in_(sorted(s.value for s in filter.statuses)))
        statement = log_page(
            statement, whatsapp_messages, first=first, after=after, direction=filter.direction,
            client_id=filter.client_id, phone=filter.phone, entity_type=filter.entity_type, entity_id=filter.entity_id,
        )
        return [_message_view(row) for row in self._session.execute(statement)]

    def last_inbound_at(self, phones: Sequence[str]) -> dict[str, datetime]:
        if not phones:
            return {}
        m = whatsapp_messages.c
        rows = self._session.execute(
            select(m.phone, func.max(m.provider_at).label("last"))
            .where(m.tenant_id == self._tenant_id, m.direction == Direction.INBOUND, m.phone.in_(list(phones)))
            .group_by(m.phone)
        )
        found = {}
        for row in rows:
            last = row.last
            if isinstance(last, str):  # SQLite hands max() back untyped
                last = datetime.fromisoformat(last)
            if last is not None:
                found[row.phone] = _utc(last)
        return found


def _utc(value: datetime) -> datetime:
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SqlAlchemyWhatsappDirectory:
    """Not tenant-bound: finds the tenant of a webhook by its phone number id or verify token."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def by_phone_number_id(self, phone_number_id: str) -> WhatsappRoute | None:
        c = whatsapp_connections.c
        row = self._session.execute(
            select(c.tenant_id, c.id, c.app_secret_sealed).where(c.phone_number_id == phone_number_id)
        ).one_or_none()
        return None if row is None else WhatsappRoute(tenant_id=row.tenant_id, connection_id=row.id, sealed=row.app_secret_sealed)

    def by_verify_token_digest(self, digest: str) -> WhatsappRoute | None:
        c = whatsapp_connections.c
        row = self._session.execute(
            select(c.tenant_id, c.id, c.verify_token_sealed).where(c.verify_token_digest == digest)
        ).one_or_none()
        return None if row is None else WhatsappRoute(tenant_id=row.tenant_id, connection_id=row.id, sealed=row.verify_token_sealed)



