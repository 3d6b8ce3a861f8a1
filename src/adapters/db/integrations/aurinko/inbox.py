"""The Aurinko inbox on SQLAlchemy: the synced messages (written a page at a time, in bulk) and
their reader.

Clients are linked to messages when read, not when stored: a message's addresses are kept in
``inbox_message_addresses`` and matched against the client's contacts' emails as they stand, so
a contact added later links the mail that was already synced.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, text, union, update
from sqlalchemy.orm import Session

from adapters.db.integrations.aurinko.tables import inbox_message_addresses, inbox_messages
from adapters.db.invoicing.tables import client_contacts
from adapters.db.emails.tables import client_emails
from application.integrations.aurinko.ports import MessageWrite, StoredMessage
from application.integrations.aurinko.views import InboxCursor, InboxFilter, InboxMessageView, MailAddressView
from domain.integrations.aurinko.inbox import MailAddress

_CHUNK = 500  # ids per IN list


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def _address_list(items: Sequence[MailAddress]) -> list[dict[str, str | None]]:
    return [{"address": item.address, "name": item.name} for item in items]


class SqlAlchemyInboxStore:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def existing(
        self, account_id: str, provider_ids: Sequence[str], internet_message_ids: Sequence[str]
    ) -> list[StoredMessage]:
        m = inbox_messages.c
        columns = (m.id, m.provider_id, m.internet_message_id, m.fingerprint, m.deleted_at)
        mine = and_(m.tenant_id == self._tenant_id, m.account_id == account_id)
        found: dict[str, StoredMessage] = {}
        # One query per column, not one with OR: each IN list then walks its own index (the OR
        # of two IN lists makes PostgreSQL filter every message of the account, page after page).
        queries = [
            select(*columns).where(mine, column.in_(chunk))
            for column, values in ((m.provider_id, provider_ids), (m.internet_message_id, internet_message_ids))
            for chunk in _chunks(list(values))
        ]
        for query in queries:
            for row in self._session.execute(query):
                found[row.id] = StoredMessage(
                    id=row.id,
                    provider_id=row.provider_id,
                    internet_message_id=row.internet_message_id,
                    fingerprint=row.fingerprint,
                    deleted=row.deleted_at is not None,
                )
        return list(found.values())

    def _values(self, write: MessageWrite, now: datetime) -> dict[str, Any]:
        message = write.message
        return {
            "provider_id": message.provider_id,
            "thread_id": message.thread_id,
            "internet_message_id": message.internet_message_id,
            "subject": message.subject,
            "from_address": message.sender.address if message.sender else None,
            "from_name": message.sender.name if message.sender else None,
            "to_addresses": _address_list(message.to),
            "cc_addresses": _address_list(message.cc),
            "bcc_addresses": _address_list(message.bcc),
            "received_at": message.received_at or message.sent_at or now,
            "sent_at": message.sent_at,
            "snippet": message.snippet,
            "body": message.body,
            "has_attachments": message.has_attachments,
            "labels": list(message.labels),
            "in_reply_to": message.in_reply_to,
            "fingerprint": write.fingerprint,
            "deleted_at": None,
            "updated_at": now,
        }

    def _addresses(self, writes: Sequence[MessageWrite]) -> list[dict[str, str]]:
        return [
            {"message_id": write.id, "address": address, "tenant_id": self._tenant_id}
            for write in writes
            for address in write.message.addresses()
        ]

    def insert(self, account_id: str, writes: Sequence[MessageWrite], *, now: datetime) -> None:
        rows = [
            {"id": w.id, "tenant_id": self._tenant_id, "account_id": account_id, "created_at": now, **self._values(w, now)}
            for w in writes
        ]
        self._session.execute(insert(inbox_messages), rows)
        addresses = self._addresses(writes)
        if addresses:
            self._session.execute(insert(inbox_message_addresses), addresses)

    def update(self, account_id: str, writes: Sequence[MessageWrite], *, now: datetime) -> None:
        m = inbox_messages.c
        rows = []
        for write in writes:
            values = self._values(write, now)
            rows.append({"b_id": write.id, **{f"v_{k}": v for k, v in values.items()}})
        statement = (
            update(inbox_messages)
            .where(m.id == bindparam("b_id"), m.tenant_id == self._tenant_id, m.account_id == account_id)
            .values({name: bindparam(f"v_{name}") for name in self._values(writes[0], now)})
        )
        self._session.connection().execute(statement, rows)
        ids = [w.id for w in writes]
        for chunk in _chunks(ids):
            self._session.execute(
                delete(inbox_message_addresses).where(
                    inbox_message_addresses.c.tenant_id == self._tenant_id,
                    inbox_message_addresses.c.message_id.in_(chunk),
                )
            )
        addresses = self._addresses(writes)
        if addresses:
            self._session.execute(insert(inbox_message_addresses), addresses)

    def mark_deleted(self, account_id: str, provider_ids: Sequence[str], *, now: datetime) -> int:
        m = inbox_messages.c
        count = 0
        for chunk in _chunks(list(provider_ids)):
            result = self._session.execute(
                update(inbox_messages)
                .where(
                    m.tenant_id == self._tenant_id, m.account_id == account_id,
                    m.provider_id.in_(chunk), m.deleted_at.is_(None),
                )
                .values(deleted_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            count += result.rowcount or 0
        return count

    def refresh_statistics(self) -> None:
        if self._session.get_bind().dialect.name == "postgresql":
            self._session.execute(text("ANALYZE inbox_messages, inbox_message_addresses"))


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _views(items: Any) -> tuple[MailAddressView, ...]:
    if not isinstance(items, list):
        return ()
    return tuple(
        MailAddressView(address=item["address"], name=item.get("name"))
        for item in items
        if isinstance(item, dict) and item.get("address")
    )


class SqlAlchemyInboxReader:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def _client_addresses(self, client_id: str | None = None) -> Any:
        """(client_id, lower-cased address) of every client email of the tenant (of ``client_id``
        only, if given): its contacts' emails and its email defaults (``createClientEmail``)."""
        contacts = select(
            client_contacts.c.client_id.label("client_id"), func.lower(client_contacts.c.email).label("address")
        ).where(client_contacts.c.tenant_id == self._tenant_id, client_contacts.c.email.is_not(None))
        defaults = select(
            client_emails.c.client_id.label("client_id"), func.lower(client_emails.c.email).label("address")
        ).where(client_emails.c.tenant_id == self._tenant_id)
        if client_id is not None:
            contacts = contacts.where(client_contacts.c.client_id == client_id)
            defaults = defaults.where(client_emails.c.client_id == client_id)
        return union(contacts, defaults)

    def find(self, filter: InboxFilter, *, first: int, after: InboxCursor | None) -> list[InboxMessageView]:
        m = inbox_messages.c
        a = inbox_message_addresses.c
        statement = select(inbox_messages).where(m.tenant_id == self._tenant_id)
        if not filter.include_deleted:
            statement = statement.where(m.deleted_at.is_(None))
        if filter.thread_id is not None:
            statement = statement.where(m.thread_id == filter.thread_id)
        if filter.search:
            pattern = _like(filter.search)
            statement = statement.where(
                or_(
                    func.lower(m.subject).like(pattern, escape="\\"),
                    func.lower(m.from_address).like(pattern, escape="\\"),
                    func.lower(m.from_name).like(pattern, escape="\\"),
                    func.lower(m.snippet).like(pattern, escape="\\"),
                )
            )
        if filter.client_id is not None:
            emails = self._client_addresses(filter.client_id).subquery()
            statement = statement.where(
                m.id.in_(
                    select(a.message_id).where(a.tenant_id == self._tenant_id, a.address.in_(select(emails.c.address)))
                )
            )
        if after is not None:
            statement = statement.where(
                or_(m.received_at < after.received_at, and_(m.received_at == after.received_at, m.id < after.message_id))
            )
        rows = list(self._session.execute(statement.order_by(m.received_at.desc(), m.id.desc()).limit(first)))
        clients = self._clients_of([row.id for row in rows])
        return [
            InboxMessageView(
                id=row.id,
                account_id=row.account_id,
                provider_id=row.provider_id,
                thread_id=row.thread_id,
                internet_message_id=row.internet_message_id,
                subject=row.subject,
                sender=MailAddressView(address=row.from_address, name=row.from_name) if row.from_address else None,
                to=_views(row.to_addresses),
                cc=_views(row.cc_addresses),
                bcc=_views(row.bcc_addresses),
                received_at=row.received_at,
                sent_at=row.sent_at,
                snippet=row.snippet,
                body=row.body,
                has_attachments=row.has_attachments,
                labels=tuple(row.labels or ()),
                in_reply_to=row.in_reply_to,
                deleted_at=row.deleted_at,
                client_ids=tuple(sorted(clients.get(row.id, ()))),
            )
            for row in rows
        ]

    def _clients_of(self, message_ids: list[str]) -> dict[str, set[str]]:
        """One query for the whole page: which clients' emails are on which message."""
        if not message_ids:
            return {}
        a = inbox_message_addresses.c
        emails = self._client_addresses().subquery()
        rows = self._session.execute(
            select(a.message_id, emails.c.client_id)
            .join(emails, emails.c.address == a.address)
            .where(a.tenant_id == self._tenant_id, a.message_id.in_(message_ids))
            .distinct()
        )
        found: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            found[row.message_id].add(row.client_id)
        return found
