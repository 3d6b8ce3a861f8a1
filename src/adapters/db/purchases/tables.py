"""Purchases' tables: suppliers (one per RUC in a tenant) and their invoices."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, ForeignKey, Index, String, Table, UniqueConstraint
from sqlalchemy.dialects import postgresql

from adapters.db.metadata import metadata
from adapters.db.types import Money, StrEnumType, UtcDateTime, id_column
from domain.purchases.invoices import InvoiceSource, InvoiceStatus

JSON_TYPE = JSON().with_variant(postgresql.JSONB(), "postgresql")

suppliers = Table(
    "suppliers",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("ruc", String(30), nullable=False),
    Column("dv", String(2), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "ruc"),
    Index("ix_suppliers_tenant_id_created_at", "tenant_id", "created_at", "id"),
)

supplier_invoices = Table(
    "supplier_invoices",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    id_column("supplier_id", ForeignKey("suppliers.id", ondelete="RESTRICT"), nullable=True),
    id_column("intake_id", nullable=True),
    id_column("file_id", nullable=False),  # the file may be deleted later; the records stay
    Column("source", StrEnumType(InvoiceSource), nullable=False),
    Column("document_type", String(32), nullable=False),
    Column("number", String(40), nullable=True),
    Column("cufe", String(80), nullable=True),
    Column("issue_date", Date, nullable=True),
    Column("currency", String(3), nullable=False),
    Column("lines", JSON_TYPE, nullable=False),
    Column("subtotal", Money(), nullable=True),
    Column("itbms_total", Money(), nullable=True),
    Column("total", Money(), nullable=True),
    Column("itbms_by_rate", JSON_TYPE, nullable=False),
    Column("status", StrEnumType(InvoiceStatus), nullable=False),
    Column("checked", JSON_TYPE, nullable=False),
    Column("problems", JSON_TYPE, nullable=False),
    Column("supplier_name", String(200), nullable=True),
    Column("supplier_ruc", String(40), nullable=True),
    Column("supplier_dv", String(4), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("confirmed_at", UtcDateTime(), nullable=True),
    Column("confirmed_by", String(200), nullable=True),
    UniqueConstraint("tenant_id", "cufe"),
    UniqueConstraint("tenant_id", "intake_id"),
    Index("ix_supplier_invoices_tenant_id_created_at", "tenant_id", "created_at", "id"),
)
