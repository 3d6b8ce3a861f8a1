"""The jobs' table: the transactional outbox and the queue the workers drain (rows, not mapped)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.dialects import postgresql

from adapters.db.metadata import metadata
from adapters.db.types import StrEnumType, UtcDateTime, id_column
from domain.jobs.model import JobStatus

jobs = Table(
    "jobs",
    metadata,
    id_column(primary_key=True),
    # NULL for system jobs (schedules); a tenant's jobs go with the tenant.
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True),
    Column("kind", String(100), nullable=False),
    Column("payload", JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    Column("idempotency_key", String(200), nullable=True),
    Column("status", StrEnumType(JobStatus), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("run_at", UtcDateTime(), nullable=False),
    Column("claimed_by", String(200), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    # NULL keys are distinct on both databases: only keyed jobs are deduplicated.
    UniqueConstraint("kind", "idempotency_key"),
    Index("ix_jobs_status_run_at", "status", "run_at"),
    Index("ix_jobs_created_at", "created_at"),
)