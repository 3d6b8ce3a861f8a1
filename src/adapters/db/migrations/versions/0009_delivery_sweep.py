"""the delivery sweep: email and WhatsApp messages by status and last change, across tenants

Revision ID: 0009_delivery_sweep
Revises: 0005_emails
Create Date: 2026-12-02 06:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0009_delivery_sweep"
down_revision = "0005_emails"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.create_index("ix_email_messages_status_updated_at", ["status", "updated_at"], unique=False)
    with op.batch_alter_table("whatsapp_messages", schema=None) as batch_op:
        batch_op.create_index("ix_whatsapp_messages_status_updated_at", ["status", "updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_whatsapp_messages_status_updated_at")
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_email_messages_status_updated_at")
