"""The WhatsApp domain's tables and the mapping of its classes."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.dialects import postgresql

from adapters.db.deliveries.log import DeliveryAttempts
from adapters.db.metadata import mapper_registry, metadata
from adapters.db.types import StrEnumType, UtcDateTime, id_column
from domain.whatsapp.connection import ClientWhatsapp, ConnectionStatus, WhatsappConnection, WhatsappTemplate
from domain.whatsapp.content import MessageKind
from domain.whatsapp.messages import Direction, InboundWhatsapp, MessageStatus, WhatsappDelivery

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



def map_classes() -> None:
    mapper_registry.map_imperatively(WhatsappConnection, whatsapp_connections)
    mapper_registry.map_imperatively(ClientWhatsapp, client_whatsapps)
    mapper_registry.map_imperatively(WhatsappTemplate, whatsapp_templates)
    # one log, two kinds of row (told apart by ``direction``): outbound deliveries and inbound messages
    mapper_registry.map_imperatively(WhatsappDelivery, whatsapp_messages, exclude_properties=["provider_at"])
    mapper_registry.map_imperatively(InboundWhatsapp, whatsapp_messages, include_properties=_INBOUND_COLUMNS)


_INBOUND_COLUMNS = [
    "id", "tenant_id", "direction", "status", "provider", "phone", "client_id", "wamid", "kind", "text",
    "provider_at", "created_at", "updated_at",
]
