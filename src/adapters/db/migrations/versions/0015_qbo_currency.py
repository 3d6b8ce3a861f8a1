"""qbo_currency: the QuickBooks company's currency settings on its connection (home currency, multicurrency)

Revision ID: 0015_qbo_currency
Revises: 0014_signatures
Create Date: 2026-12-07 10:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_qbo_currency"
down_revision = "0014_signatures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("qbo_connections") as batch:
        batch.add_column(sa.Column("home_currency", sa.String(length=3), nullable=True))
        batch.add_column(sa.Column("multicurrency", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("qbo_connections") as batch:
        batch.drop_column("multicurrency")
        batch.drop_column("home_currency")
