"""Tenancy's tables (tenants, users, their subscriptions, the directory's users) and their mapping."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table, UniqueConstraint

from adapters.db.metadata import mapper_registry, metadata
from adapters.db.types import StrEnumType, UtcDateTime, id_column
from domain.tenancy.directory import DirectoryUser
from domain.tenancy.model import Role, Tenant, User
from domain.tenancy.subscription import SubscriptionStatus, TenantSubscription

tenants = Table(
    "tenants",
    metadata,
    id_column(primary_key=True),
    Column("slug", String(63), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("external_id", String(128), nullable=True, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
    # WorkOS: the organization's updated_at last applied, and when it was deleted
    Column("directory_updated_at", UtcDateTime(), nullable=True),
    Column("deleted_at", UtcDateTime(), nullable=True),
)

users = Table(
    "users",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(254), nullable=False),
    Column("role", StrEnumType(Role), nullable=False),
    Column("external_id", String(128), nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("directory_updated_at", UtcDateTime(), nullable=True),  # WorkOS: newest wins
    UniqueConstraint("tenant_id", "email"),
    Index("ix_users_tenant_id_external_id", "tenant_id", "external_id"),
)

# The tenant's SaaS subscription, from Polar's webhooks (issue 6): one per tenant, newest event wins.
tenant_subscriptions = Table(
    "tenant_subscriptions",
    metadata,
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("provider", String(32), nullable=False),
    Column("subscription_id", String(200), nullable=False),
    Column("product_id", String(200), nullable=True),
    Column("plan", String(200), nullable=True),
    Column("status", StrEnumType(SubscriptionStatus), nullable=False),
    Column("current_period_end", UtcDateTime(), nullable=True),
    Column("cancel_at_period_end", Boolean, nullable=False),
    Column("ended_at", UtcDateTime(), nullable=True),
    Column("event_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# WorkOS users as last reported (issue 6), keyed by their WorkOS id: the email a membership's user
# row takes, and whether the user was deleted (a deleted user is never active again).
directory_users = Table(
    "directory_users",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("email", String(254), nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

def map_classes() -> None:
    mapper_registry.map_imperatively(Tenant, tenants)
    mapper_registry.map_imperatively(User, users)
    mapper_registry.map_imperatively(TenantSubscription, tenant_subscriptions)
    mapper_registry.map_imperatively(DirectoryUser, directory_users)
