"""fiscal: the tenant's fiscal profile (the issuer its documents print)

Revision ID: 0010_fiscal
Revises: 0009_delivery_sweep
Create Date: 2026-12-07 06:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_fiscal"
down_revision = "0009_delivery_sweep"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_profiles",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("trade_name", sa.String(length=200), nullable=True),
        sa.Column("taxpayer_type", sa.String(length=32), nullable=False),
        sa.Column("ruc", sa.String(length=30), nullable=False),
        sa.Column("dv", sa.String(length=2), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("province", sa.String(length=32), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("website", sa.String(length=200), nullable=True),
        sa.Column("payment_terms_days", sa.Integer(), nullable=False),
        sa.Column("payment_instructions", sa.Text(), nullable=True),
        sa.Column("currency", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_tenant_profiles_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_profiles")),
    )


def downgrade() -> None:
    op.drop_table("tenant_profiles")
