"""Tables, column types and the imperative mapping of the domain classes."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import registry, relationship

from domain.files.model import EntityType, File, FileEntity, FileStatus
from domain.tenancy.model import Role, Tenant, User

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on PostgreSQL and on SQLite alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StrEnumType(TypeDecorator[StrEnum]):
    impl = String(32)
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> StrEnum | None:
        return None if value is None else self.enum(value)


def _id(name: str = "id", *args: Any, **kw: Any) -> Column[str]:
    return Column(name, String(36), *args, **kw)


tenants = Table(
    "tenants",
    metadata,
    _id(primary_key=True),
    Column("slug", String(63), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("external_id", String(128), nullable=True, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

users = Table(
    "users",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(254), nullable=False),
    Column("role", StrEnumType(Role), nullable=False),
    Column("external_id", String(128), nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "email"),
    Index("ix_users_tenant_id_external_id", "tenant_id", "external_id"),
)

files = Table(
    "files",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("mime", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("status", StrEnumType(FileStatus), nullable=False),
    Column("created_by", String(254), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),
    UniqueConstraint("tenant_id", "sha256"),
    Index("ix_files_tenant_id_created_at", "tenant_id", "created_at", "id"),
    Index("ix_files_tenant_id_name", "tenant_id", "name"),
    Index("ix_files_status_expires_at", "status", "expires_at"),
)

file_entities = Table(
    "file_entities",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", nullable=False),
    _id("file_id", ForeignKey("files.id", ondelete="CASCADE"), nullable=False),
    Column("entity_type", StrEnumType(EntityType), nullable=False),
    Column("entity_id", String(128), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("file_id", "entity_type", "entity_id"),
    Index("ix_file_entities_tenant_entity", "tenant_id", "entity_type", "entity_id"),
)

# One row per (tenant, content) ever locked: the upsert on it is a per-blob mutex that
# serialises uploads, deletes and garbage collection of the same bytes on both databases.
file_content_locks = Table(
    "file_content_locks",
    metadata,
    _id("tenant_id", primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("locked_at", UtcDateTime(), nullable=False),
)

mapper_registry = registry(metadata=metadata)


def start_mappers() -> None:
    """Map the plain domain classes onto the tables, once per process."""
    if getattr(File, "__mapper__", None) is not None:
        return
    mapper_registry.map_imperatively(Tenant, tenants)
    mapper_registry.map_imperatively(User, users)
    mapper_registry.map_imperatively(FileEntity, file_entities)
    mapper_registry.map_imperatively(
        File,
        files,
        properties={
            "links": relationship(
                FileEntity,
                cascade="all, delete-orphan",
                passive_deletes=True,
                lazy="selectin",
                order_by=file_entities.c.created_at,
            )
        },
    )
