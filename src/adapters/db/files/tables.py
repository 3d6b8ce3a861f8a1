"""The files domain's tables (files, their links to entities, per-content locks) and their mapping."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, UniqueConstraint
from sqlalchemy.orm import relationship

from adapters.db.metadata import mapper_registry, metadata
from adapters.db.types import StrEnumType, UtcDateTime, id_column
from domain.files.model import EntityType, File, FileEntity, FileStatus

files = Table(
    "files",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
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
    id_column(primary_key=True),
    id_column("tenant_id", nullable=False),
    id_column("file_id", ForeignKey("files.id", ondelete="CASCADE"), nullable=False),
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
    id_column("tenant_id", primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("locked_at", UtcDateTime(), nullable=False),
)

def map_classes() -> None:
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
