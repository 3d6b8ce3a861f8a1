"""The emails domain's tables and the mapping of its classes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, TypeDecorator, UniqueConstraint

from adapters.db.deliveries.log import DeliveryAttempts
from adapters.db.metadata import mapper_registry, metadata
from adapters.db.types import EmailList, StrEnumType, UtcDateTime, id_column
from domain.emails.model import (
    ClientEmail,
    Direction as EmailDirection,
    EmailKind,
    EmailLocale,
    EmailMessage,
    EmailSettings,
    EmailTemplate,
    RecipientKind,
)
from domain.shared.delivery import DeliveryStatus


class IdList(TypeDecorator[tuple[str, ...]]):
    """A tuple of ids (UUIDs: no commas), kept as one comma-separated text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else ",".join(value)

    def process_result_value(self, value: str | None, dialect: Any) -> tuple[str, ...]:
        return tuple(value.split(",")) if value else ()


client_emails = Table(
    "client_emails",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    id_column("client_id", ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(320), nullable=False),
    Column("kind", StrEnumType(RecipientKind), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("client_id", "email"),
    Index("ix_client_emails_tenant_id_client_id", "tenant_id", "client_id", "created_at"),
)

email_messages = Table(
    "email_messages",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("direction", StrEnumType(EmailDirection), nullable=False),
    Column("kind", StrEnumType(EmailKind), nullable=False),
    Column("status", StrEnumType(DeliveryStatus), nullable=False),
    Column("internet_message_id", String(300), nullable=False, unique=True),
    Column("idempotency_key", String(200), nullable=False),
    Column("from_address", String(320), nullable=True),
    Column("reply_to", EmailList(), nullable=False),
    Column("to", EmailList(), nullable=False),
    Column("cc", EmailList(), nullable=False),
    Column("bcc", EmailList(), nullable=False),
    Column("subject", Text, nullable=False),
    Column("html", Text, nullable=True),
    Column("text", Text, nullable=True),
    Column("attachment_file_ids", IdList(), nullable=False),
    Column("entity_type", String(32), nullable=True),
    Column("entity_id", String(128), nullable=True),
    Column("provider", String(50), nullable=True),
    Column("provider_message_id", String(300), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("attempts", DeliveryAttempts(), nullable=False, default=()),
    Column("retries", Integer, nullable=False, default=0),
    Column("created_by", String(320), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    Index("ix_email_messages_tenant_id_created_at", "tenant_id", "created_at", "id"),
    Index("ix_email_messages_tenant_id_entity", "tenant_id", "entity_type", "entity_id"),
    Index("ix_email_messages_tenant_id_status", "tenant_id", "status", "created_at"),
    Index("ix_email_messages_status_updated_at", "status", "updated_at"),  # the delivery sweep
)

email_templates = Table(
    "email_templates",
    metadata,
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", StrEnumType(EmailKind), primary_key=True),
    Column("locale", StrEnumType(EmailLocale), primary_key=True),
    Column("subject", Text, nullable=False),
    Column("html", Text, nullable=True),
    Column("text", Text, nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# A tenant's own SMTP server (the URL SecretBox-sealed, context ``emails-smtp:{tenant_id}``) and From.
email_settings = Table(
    "email_settings",
    metadata,
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("smtp_url_sealed", Text, nullable=True),
    Column("smtp_summary", String(400), nullable=True),
    Column("from_address", String(320), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)


def map_classes() -> None:
    mapper_registry.map_imperatively(ClientEmail, client_emails)
    mapper_registry.map_imperatively(EmailMessage, email_messages)
    mapper_registry.map_imperatively(EmailTemplate, email_templates)
    mapper_registry.map_imperatively(EmailSettings, email_settings)
