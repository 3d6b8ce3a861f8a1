"""The QuickBooks connector's tables: the connection, used OAuth state nonces, the sync links
(the mapping table), the per-realm request budget, and their mapping."""

from __future__ import annotations

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
    UniqueConstraint,
)

from adapters.db.metadata import mapper_registry, metadata
from adapters.db.types import StrEnumType, UtcDateTime, id_column
from domain.integrations.quickbooks.connection import ConnectionStatus, QuickbooksConnection
from domain.integrations.quickbooks.links import Origin, SyncKind, SyncLink, SyncStatus

qbo_connections = Table(
    "qbo_connections",
    metadata,
    id_column(primary_key=True),
    # one connection per tenant (connecting again updates it)
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("realm_id", String(32), nullable=False),
    Column("status", StrEnumType(ConnectionStatus), nullable=False),
    Column("company_name", String(200), nullable=True),
    # SecretBox-sealed, bound to quickbooks:{tenant_id}:{id}:access|refresh; NULL once disconnected
    Column("access_sealed", Text, nullable=True),
    Column("refresh_sealed", Text, nullable=True),
    Column("access_expires_at", UtcDateTime(), nullable=True),
    Column("refresh_expires_at", UtcDateTime(), nullable=True),
    Column("refresh_hard_expires_at", UtcDateTime(), nullable=True),
    Column("refreshed_at", UtcDateTime(), nullable=True),
    Column("connected_by", String(128), nullable=True),
    Column("connected_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("reconnect_reason", String(300), nullable=True),
    Column("last_sync_at", UtcDateTime(), nullable=True),
    Column("cdc_since", UtcDateTime(), nullable=True),
    Column("cdc_lease_until", UtcDateTime(), nullable=True),
    Column("item_id", String(40), nullable=True),
    Column("income_account_id", String(40), nullable=True),
    Column("tax_codes", JSON, nullable=True),
    Column("inbound_applied", Integer, nullable=False, default=0),
    Column("inbound_ignored", Integer, nullable=False, default=0),
    # Preferences.CurrencyPrefs, read at the first invoice after connecting (and before refusing one)
    Column("home_currency", String(3), nullable=True),
    Column("multicurrency", Boolean, nullable=True),
    Index("ix_qbo_connections_realm_id", "realm_id"),
)

# Nonces of OAuth states already used (single use); rows past their expiry are deleted on the way.
qbo_oauth_states = Table(
    "qbo_oauth_states",
    metadata,
    Column("nonce", String(64), primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=False),
    Index("ix_qbo_oauth_states_expires_at", "expires_at"),
)

# Each local record and its QuickBooks object: Id, SyncToken, and where its sync stands.
qbo_links = Table(
    "qbo_links",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("kind", StrEnumType(SyncKind), nullable=False),
    id_column("local_id", nullable=True),
    Column("qbo_id", String(100), nullable=True),
    Column("sync_token", String(40), nullable=True),
    Column("status", StrEnumType(SyncStatus), nullable=False),
    Column("origin", StrEnumType(Origin), nullable=False),
    Column("version", Integer, nullable=False),
    Column("synced_version", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=True),
    Column("voided", Boolean, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(1000), nullable=True),
    Column("error_code", String(40), nullable=True),
    Column("error_element", String(200), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("synced_at", UtcDateTime(), nullable=True),
    UniqueConstraint("tenant_id", "kind", "local_id"),
    UniqueConstraint("tenant_id", "kind", "qbo_id"),
    Index("ix_qbo_links_tenant_id_updated_at", "tenant_id", "updated_at", "id"),
    Index("ix_qbo_links_tenant_id_status", "tenant_id", "status"),
)

# The per-realm request budget shared by every worker: requests counted per minute, and the
# slots of the requests in flight (at most ``concurrency`` rows per realm, each with a lease).
qbo_rate_minutes = Table(
    "qbo_rate_minutes",
    metadata,
    Column("realm_id", String(32), primary_key=True),
    Column("minute", UtcDateTime(), primary_key=True),
    Column("requests", Integer, nullable=False),
)

qbo_rate_slots = Table(
    "qbo_rate_slots",
    metadata,
    Column("realm_id", String(32), primary_key=True),
    Column("slot", Integer, primary_key=True),
    Column("holder", String(64), nullable=True),
    Column("held_until", UtcDateTime(), nullable=True),
)


def map_classes() -> None:
    mapper_registry.map_imperatively(QuickbooksConnection, qbo_connections)
    mapper_registry.map_imperatively(SyncLink, qbo_links)
