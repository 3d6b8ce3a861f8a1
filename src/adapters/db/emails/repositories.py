"""Emails on SQLAlchemy: client default recipients, the message log and templates, bound to one tenant."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy import Row, select
from sqlalchemy.orm import Session, sessionmaker

from adapters.db.deliveries.log import lock_sqlite, log_page
from adapters.db.emails.tables import client_emails, email_messages, email_settings, email_templates
from adapters.db.repository import TenantRepository
from application.deliveries.ports import DeliveryRejected
from application.deliveries.views import view_of
from application.emails.views import ClientEmailView, EmailMessageCursor, EmailMessageFilter, EmailMessageView
from application.shared.secrets import SecretBox, SecretUnreadable
from domain.emails.model import (
    ClientEmail,
    EmailKind,
    EmailLocale,
    EmailMessage,
    EmailSettings,
    EmailTemplate,
    smtp_secret_context,
)

log = structlog.get_logger(__name__)


class SqlAlchemyClientEmailRepository(TenantRepository[ClientEmail]):
    kind = "client email"

    def get(self, client_email_id: str) -> ClientEmail | None:
        return self._one(
            select(ClientEmail).where(
                client_emails.c.id == client_email_id, client_emails.c.tenant_id == self._tenant_id
            )
        )

    def of_client(self, client_id: str) -> list[ClientEmail]:
        return self._all(
            select(ClientEmail)
            .where(client_emails.c.tenant_id == self._tenant_id, client_emails.c.client_id == client_id)
            .order_by(client_emails.c.created_at, client_emails.c.id)
        )


class SqlAlchemyClientEmailReader:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def of_clients(self, client_ids: Sequence[str]) -> dict[str, list[ClientEmailView]]:
        result: dict[str, list[ClientEmailView]] = {client_id: [] for client_id in client_ids}
        if not client_ids:
            return result
        rows = self._session.execute(
            select(client_emails)
            .where(client_emails.c.tenant_id == self._tenant_id, client_emails.c.client_id.in_(list(set(client_ids))))
            .order_by(client_emails.c.created_at, client_emails.c.id)
        )
        for row in rows:
            result[row.client_id].append(
                ClientEmailView(id=row.id, client_id=row.client_id, email=row.email, kind=row.kind, created_at=row.created_at)
            )
        return result


class SqlAlchemyEmailMessageRepository(TenantRepository[EmailMessage]):
    kind = "email message"

    def get_for_update(self, message_id: str) -> EmailMessage | None:
        where = (email_messages.c.id == message_id, email_messages.c.tenant_id == self._tenant_id)
        statement = select(EmailMessage).where(*where)
        if not lock_sqlite(self._session, email_messages, *where):
            statement = statement.with_for_update(of=email_messages)
        return self._one(statement)


def _message_view(row: Row[Any]) -> EmailMessageView:
    return view_of(EmailMessageView, row, message_id=row.internet_message_id)


class SqlAlchemyEmailMessageReader:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def get(self, message_id: str) -> EmailMessageView | None:
        row = self._session.execute(
            select(email_messages).where(
                email_messages.c.id == message_id, email_messages.c.tenant_id == self._tenant_id
            )
        ).one_or_none()
        return None if row is None else _message_view(row)

    def find(
        self, filter: EmailMessageFilter, *, first: int, after: EmailMessageCursor | None
    ) -> list[EmailMessageView]:
        c = email_messages.c
        statement = select(email_messages).where(c.tenant_id == self._tenant_id)
        if filter.statuses:
            statement = statement.where(c.status.in_([str(s) for s in filter.statuses]))
        statement = log_page(
            statement, email_messages, first=first, after=after, kind=filter.kind, direction=filter.direction,
            entity_type=filter.entity_type, entity_id=filter.entity_id,
        )
        return [_message_view(row) for row in self._session.execute(statement)]


class SqlAlchemyEmailTemplateRepository(TenantRepository[EmailTemplate]):
    kind = "email template"

    def get(self, kind: EmailKind, locale: EmailLocale) -> EmailTemplate | None:
        return self._one(
            select(EmailTemplate).where(
                email_templates.c.tenant_id == self._tenant_id,
                email_templates.c.kind == kind,
                email_templates.c.locale == locale,
            )
        )

    def all(self) -> list[EmailTemplate]:
        return self._all(select(EmailTemplate).where(email_templates.c.tenant_id == self._tenant_id))


class SqlAlchemyEmailSettingsRepository(TenantRepository[EmailSettings]):
    kind = "email settings"

    def get(self) -> EmailSettings | None:
        return self._one(select(EmailSettings).where(email_settings.c.tenant_id == self._tenant_id))


class SqlAlchemyTenantSmtpUrls:
    """Each tenant's own SMTP URL, opened from its sealed column, for the sender chooser.

    Read at most every ``ttl`` seconds per tenant (a changed setting is used within ``ttl``); a URL
    that does not open (wrong secret keys) refuses the send rather than using another server."""

    def __init__(self, session_factory: sessionmaker[Session], box: SecretBox, *, ttl: float = 5.0) -> None:
        self._sessions = session_factory
        self._box = box
        self._ttl = ttl
        self._cache: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def __call__(self, tenant_id: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(tenant_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        with self._sessions() as session:
            sealed = session.execute(
                select(email_settings.c.smtp_url_sealed).where(email_settings.c.tenant_id == tenant_id)
            ).scalar_one_or_none()
        url = None
        if sealed is not None:
            try:
                url = self._box.open(sealed, context=smtp_secret_context(tenant_id))
            except SecretUnreadable:
                log.error("email.smtp_url_unreadable", tenant_id=tenant_id)
                raise DeliveryRejected("the tenant's SMTP URL cannot be opened with the current secret keys") from None
        with self._lock:
            self._cache[tenant_id] = (now, url)
        return url
