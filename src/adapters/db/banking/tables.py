"""Banking's tables: accounts, their statements and transactions, and the tenant's column profiles."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.dialects import postgresql

from adapters.db.metadata import metadata
from adapters.db.types import Money, UtcDateTime, id_column

bank_accounts = Table(
    "bank_accounts",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("bank", String(80), nullable=False),
    Column("number_masked", String(16), nullable=False),
    # SHA-256 of bank and number: finds the account again without keeping the full number.
    Column("account_key", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "account_key", "currency"),
)

bank_statements = Table(
    "bank_statements",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    id_column("account_id", ForeignKey("bank_accounts.id", ondelete="CASCADE"), nullable=False),
    id_column("file_id", nullable=False),  # the file may be deleted later; the records stay
    id_column("intake_id", nullable=False),
    Column("format", String(32), nullable=False),
    Column("period_start", Date, nullable=True),
    Column("period_end", Date, nullable=True),
    Column("opening_balance", Money(), nullable=True),
    Column("closing_balance", Money(), nullable=True),
    Column("transactions_added", Integer, nullable=False),
    Column("transactions_known", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "intake_id"),
    Index("ix_bank_statements_tenant_id_created_at", "tenant_id", "created_at", "id"),
)

bank_transactions = Table(
    "bank_transactions",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    id_column("account_id", ForeignKey("bank_accounts.id", ondelete="CASCADE"), nullable=False),
    id_column("statement_id", ForeignKey("bank_statements.id", ondelete="CASCADE"), nullable=False),
    Column("dedupe_key", String(70), nullable=False),
    Column("booked_on", Date, nullable=False),
    Column("value_on", Date, nullable=True),
    Column("amount", Money(), nullable=False),
    Column("description", String(500), nullable=True),
    Column("reference", String(140), nullable=True),
    Column("counterparty", String(500), nullable=True),
    Column("bank_id", String(255), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("account_id", "dedupe_key"),
    Index("ix_bank_transactions_tenant_id_account_id_booked_on", "tenant_id", "account_id", "booked_on", "id"),
)

bank_import_profiles = Table(
    "bank_import_profiles",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(80), nullable=False),
    Column("bank", String(80), nullable=False),
    Column("account_number", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("columns", JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    Column("date_format", String(16), nullable=False),
    Column("decimal_separator", String(1), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "name"),
)
