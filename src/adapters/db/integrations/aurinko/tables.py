"""The Aurinko connector's tables (the connection, used OAuth states, the synced inbox and its
addresses) and their mapping."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint

from adapters.db.metadata import mapper_registry, metadata
from adapters.db.types import StrEnumType, UtcDateTime, id_column
from domain.integrations.aurinko.connection import AurinkoConnection
from domain.integrations.aurinko.connection import ConnectionStatus as AurinkoStatus
from domain.integrations.aurinko.connection import ServiceType as AurinkoServiceType

aurinko_connections = Table(
    "aurinko_connections",
    metadata,
    id_column(primary_key=True),
    # one connection per tenant (connecting again updates it)
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("status", StrEnumType(AurinkoStatus), nullable=False),
    Column("account_id", String(100), nullable=False),
    Column("email", String(320), nullable=True),
    Column("service_type", StrEnumType(AurinkoServiceType), nullable=False),
    Column("scopes", String(200), nullable=False),
    # SecretBox-sealed access token, bound to aurinko:{tenant_id}:{id}; NULL once disconnected
    Column("token_sealed", Text, nullable=True),
    Column("connected_by", String(128), nullable=True),
    Column("connected_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("reconnect_reason", String(300), nullable=True),
    Column("last_sync_at", UtcDateTime(), nullable=True),
    Column("last_sync_error", String(300), nullable=True),
    Column("sync_updated_token", Text, nullable=True),
    Column("sync_deleted_token", Text, nullable=True),
    Column("sync_lease_until", UtcDateTime(), nullable=True),
    Index("ix_aurinko_connections_account_id", "account_id"),
)

# Nonces of OAuth states already used (single use); rows past their expiry are deleted on the way.
aurinko_oauth_states = Table(
    "aurinko_oauth_states",
    metadata,
    Column("nonce", String(64), primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=False),
    Index("ix_aurinko_oauth_states_expires_at", "expires_at"),
)

inbox_messages = Table(
    "inbox_messages",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", String(100), nullable=False),
    Column("provider_id", String(255), nullable=False),
    Column("thread_id", String(255), nullable=True),
    Column("internet_message_id", String(500), nullable=True),
    Column("subject", Text, nullable=True),
    Column("from_address", String(320), nullable=True),
    Column("from_name", String(200), nullable=True),
    Column("to_addresses", JSON, nullable=False),
    Column("cc_addresses", JSON, nullable=False),
    Column("bcc_addresses", JSON, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("snippet", Text, nullable=True),
    Column("body", Text, nullable=True),
    Column("has_attachments", Boolean, nullable=False),
    Column("labels", JSON, nullable=False),
    Column("in_reply_to", String(500), nullable=True),
    Column("fingerprint", String(64), nullable=False),
    Column("deleted_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "account_id", "provider_id"),
    Index("ix_inbox_messages_tenant_id_received_at", "tenant_id", "received_at", "id"),
    Index("ix_inbox_messages_tenant_id_thread_id", "tenant_id", "thread_id"),
    Index("ix_inbox_messages_tenant_id_internet_message_id", "tenant_id", "account_id", "internet_message_id"),
)

# Every address on a message (sender and recipients), lower case: what links messages to clients.
inbox_message_addresses = Table(
    "inbox_message_addresses",
    metadata,
    id_column("message_id", ForeignKey("inbox_messages.id", ondelete="CASCADE"), primary_key=True),
    Column("address", String(320), primary_key=True),
    id_column("tenant_id", nullable=False),
    Index("ix_inbox_message_addresses_tenant_id_address", "tenant_id", "address"),
)

def map_classes() -> None:
    mapper_registry.map_imperatively(AurinkoConnection, aurinko_connections)
