"""The emails and WhatsApp tables and their mapping, kept together in one module while those
domains are being reworked (into one outbound ``deliveries`` flow): they move to
``adapters/db/emails/`` and ``adapters/db/whatsapp/`` in one step afterwards. Their repositories are
registered from ``adapters.db.messaging``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql

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
from domain.shared.delivery import DeliveryAttempt, DeliveryStatus
from domain.whatsapp.connection import ClientWhatsapp, ConnectionStatus, WhatsappConnection, WhatsappTemplate
from domain.whatsapp.content import MessageKind
from domain.whatsapp.messages import Direction, InboundWhatsapp, MessageStatus, WhatsappDelivery


class DeliveryAttempts(TypeDecorator[tuple[DeliveryAttempt, ...]]):
    """A delivery's attempts (``domain.shared.delivery``), kept as a JSON list on the message's row
    (a few per message, read together): WhatsApp messages and email messages alike."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> list[dict[str, Any]] | None:
        return None if value is None else [attempt.to_json() for attempt in value]

    def process_result_value(self, value: Any, dialect: Any) -> tuple[DeliveryAttempt, ...]:
        return tuple(DeliveryAttempt.from_json(item) for item in (value or []))


# One per tenant. The phone number id routes webhooks to the tenant; the verify token is found by
# its SHA-256 for the GET handshake; the token and the secrets are SecretBox-sealed.
whatsapp_connections = Table(
    "whatsapp_connections",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("phone_number_id", String(32), nullable=False, unique=True),
    Column("waba_id", String(32), nullable=False),
    Column("access_token_sealed", Text, nullable=False),
    Column("app_secret_sealed", Text, nullable=False),
    Column("verify_token_sealed", Text, nullable=False),
    Column("verify_token_digest", String(64), nullable=False, unique=True),
    Column("status", StrEnumType(ConnectionStatus), nullable=False),
    Column("last_error", String(500), nullable=True),
    Column("connected_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

client_whatsapps = Table(
    "client_whatsapps",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    id_column("client_id", ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("client_id", "phone"),
    Index("ix_client_whatsapps_tenant_id_phone", "tenant_id", "phone"),
)

whatsapp_templates = Table(
    "whatsapp_templates",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(512), nullable=False),
    Column("language", String(16), nullable=False),
    Column("body_parameters", Integer, nullable=False),
    Column("document_header", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "name", "language"),
)

whatsapp_messages = Table(
    "whatsapp_messages",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("direction", StrEnumType(Direction), nullable=False),
    Column("phone", String(20), nullable=False),
    # no foreign key: deleting a client keeps its messages in the log
    id_column("client_id", nullable=True),
    Column("kind", StrEnumType(MessageKind), nullable=False),
    Column("text", Text, nullable=True),
    Column("template_name", String(512), nullable=True),
    Column("template_language", String(16), nullable=True),
    Column("template_parameters", JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False, default=list),
    id_column("file_id", nullable=True),
    Column("filename", String(255), nullable=True),
    Column("caption", String(1024), nullable=True),
    Column("entity_type", String(32), nullable=True),
    Column("entity_id", String(128), nullable=True),
    Column("status", StrEnumType(MessageStatus), nullable=False),
    Column("wamid", String(128), nullable=True),
    Column("provider", String(32), nullable=True),
    Column("error_code", Integer, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("attempts", DeliveryAttempts(), nullable=False, default=()),
    Column("retries", Integer, nullable=False, default=0),
    Column("provider_at", UtcDateTime(), nullable=True),
    Column("created_by", String(254), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("delivered_at", UtcDateTime(), nullable=True),
    Column("read_at", UtcDateTime(), nullable=True),
    Column("failed_at", UtcDateTime(), nullable=True),
    # NULLs are distinct: only messages the provider numbered are unique (inbound dedupe, status lookups)
    UniqueConstraint("tenant_id", "wamid"),
    Index("ix_whatsapp_messages_tenant_id_created_at", "tenant_id", "created_at", "id"),
    Index("ix_whatsapp_messages_tenant_id_phone", "tenant_id", "direction", "phone", "provider_at"),
    Index("ix_whatsapp_messages_tenant_id_client_id", "tenant_id", "client_id", "created_at"),
    Index("ix_whatsapp_messages_status_updated_at", "status", "updated_at"),  # the delivery sweep
)

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
    mapper_registry.map_imperatively(WhatsappConnection, whatsapp_connections)
    mapper_registry.map_imperatively(ClientWhatsapp, client_whatsapps)
    mapper_registry.map_imperatively(WhatsappTemplate, whatsapp_templates)
    # one log, two kinds of row (told apart by ``direction``): outbound deliveries and inbound messages
    mapper_registry.map_imperatively(WhatsappDelivery, whatsapp_messages, exclude_properties=["provider_at"])
    mapper_registry.map_imperatively(InboundWhatsapp, whatsapp_messages, include_properties=_INBOUND_COLUMNS)
    mapper_registry.map_imperatively(ClientEmail, client_emails)
    mapper_registry.map_imperatively(EmailMessage, email_messages)
    mapper_registry.map_imperatively(EmailTemplate, email_templates)
    mapper_registry.map_imperatively(EmailSettings, email_settings)


_INBOUND_COLUMNS = [
    "id", "tenant_id", "direction", "status", "provider", "phone", "client_id", "wamid", "kind", "text",
    "provider_at", "created_at", "updated_at",
]
