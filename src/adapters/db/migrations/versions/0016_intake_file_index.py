"""intake: document intakes indexed by their file (the job's look for an earlier import of the same
file, and the cascade when a file is deleted, read them by file instead of scanning the tenant's)

Revision ID: 0016_intake_file_index
Revises: 0015_qbo_currency
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0016_intake_file_index"
down_revision = "0015_qbo_currency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document_intakes", schema=None) as batch_op:
        batch_op.create_index("ix_document_intakes_tenant_id_file_id", ["tenant_id", "file_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document_intakes", schema=None) as batch_op:
        batch_op.drop_index("ix_document_intakes_tenant_id_file_id")
