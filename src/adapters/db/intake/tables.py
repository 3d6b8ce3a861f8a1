"""Document intake's table: one row per uploaded file on its way to records (rows, not mapped)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table
from sqlalchemy.dialects import postgresql

from adapters.db.metadata import metadata
from adapters.db.types import StrEnumType, UtcDateTime, id_column
from domain.intake.model import IntakeStatus

JSON_TYPE = JSON().with_variant(postgresql.JSONB(), "postgresql")

document_intakes = Table(
    "document_intakes",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    id_column("file_id", ForeignKey("files.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=True),
    Column("status", StrEnumType(IntakeStatus), nullable=False),
    Column("strategy", String(32), nullable=True),
    Column("reasons", JSON_TYPE, nullable=False),
    Column("problems", JSON_TYPE, nullable=False),
    Column("records", JSON_TYPE, nullable=False),
    Column("runs", Integer, nullable=False),
    Column("created_by", String(200), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    Index("ix_document_intakes_tenant_id_created_at", "tenant_id", "created_at", "id"),
    Index("ix_document_intakes_tenant_id_status", "tenant_id", "status", "created_at"),
    Index("ix_document_intakes_tenant_id_file_id", "tenant_id", "file_id"),  # a file's other intakes; its delete
)
