"""The webhooks' table: the inbox of verified deliveries (rows, not mapped)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql

from adapters.db.metadata import metadata
from adapters.db.types import StrEnumType, UtcDateTime, id_column
from domain.webhooks.model import WebhookStatus

webhook_events = Table(
    "webhook_events",
    metadata,
    id_column(primary_key=True),
    Column("provider", String(32), nullable=False),
    Column("provider_event_id", String(200), nullable=False),
    # NULL until a tenant is resolved (WorkOS, an unknown PAC company): operators still see it.
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True),
    Column("event_type", String(100), nullable=True),
    Column("headers", JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("status", StrEnumType(WebhookStatus), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("replays", Integer, nullable=False),
    Column("processed_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("provider", "provider_event_id"),
    Index("ix_webhook_events_tenant_id_received_at", "tenant_id", "received_at", "id"),
    Index("ix_webhook_events_received_at", "received_at", "id"),
)