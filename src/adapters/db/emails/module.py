"""The emails domain's persistence: clients' addresses, messages, templates and sending settings."""

from __future__ import annotations

from adapters.db.emails.repositories import (
    SqlAlchemyClientEmailReader,
    SqlAlchemyClientEmailRepository,
    SqlAlchemyEmailMessageReader,
    SqlAlchemyEmailMessageRepository,
    SqlAlchemyEmailSettingsRepository,
    SqlAlchemyEmailTemplateRepository,
)
from adapters.db.deliveries.log import SqlAlchemyStaleDeliveries
from adapters.db.emails.tables import email_messages, email_settings, map_classes
from adapters.db.registry import Binding, DbModule, Repository, SealedColumn
from domain.emails.model import smtp_secret_context

DB_MODULE = DbModule(
    name="emails",
    map_classes=map_classes,
    repositories={
        "client_emails": Repository(lambda s: SqlAlchemyClientEmailRepository(s.session, s.tenant, s.seen)),
        "client_email_views": Repository(lambda s: SqlAlchemyClientEmailReader(s.session, s.tenant)),
        "email_messages": Repository(lambda s: SqlAlchemyEmailMessageRepository(s.session, s.tenant, s.seen)),
        "email_message_views": Repository(lambda s: SqlAlchemyEmailMessageReader(s.session, s.tenant)),
        "email_templates": Repository(lambda s: SqlAlchemyEmailTemplateRepository(s.session, s.tenant, s.seen)),
        "email_settings": Repository(lambda s: SqlAlchemyEmailSettingsRepository(s.session, s.tenant, s.seen)),
        "stale_emails": Repository(
            lambda s: SqlAlchemyStaleDeliveries(s.session, "email", email_messages), Binding.SYSTEM
        ),
    },
    sealed=(
        SealedColumn(
            table=email_settings, key_column="tenant_id", sealed_column="smtp_url_sealed",
            context=lambda row: smtp_secret_context(row["tenant_id"]),
        ),
    ),
)
