"""signatures: signatures, requests to sign, seals, the hash-chained audit log, its heads and their timestamps

Revision ID: 0014_signatures
Revises: 0013_quickbooks
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_signatures"
down_revision = '0013_quickbooks'
branch_labels = None
depends_on = None


def _tenant() -> sa.Column:
    return sa.Column("tenant_id", sa.String(length=36), nullable=False)


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "signatures",
        sa.Column("id", sa.String(length=36), nullable=False),
        _tenant(),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=128), nullable=False),
        sa.Column("document_file_id", sa.String(length=36), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("image_file_id", sa.String(length=36), nullable=True),
        sa.Column("typed_name", sa.String(length=200), nullable=True),
        sa.Column("signer_user_id", sa.String(length=254), nullable=True),
        sa.Column("signer_name", sa.String(length=200), nullable=True),
        sa.Column("signer_email", sa.String(length=254), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=254), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        _tenant_fk("signatures"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signatures")),
    )
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.create_index(
            "ix_signatures_tenant_id_entity", ["tenant_id", "entity_type", "entity_id", "signed_at"], unique=False
        )

    op.create_table(
        "signature_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        _tenant(),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=128), nullable=False),
        sa.Column("document_file_id", sa.String(length=36), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("document_name", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("recipient_name", sa.String(length=200), nullable=False),
        sa.Column("recipient_email", sa.String(length=254), nullable=True),
        sa.Column("recipient_phone", sa.String(length=32), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("signature_id", sa.String(length=36), nullable=True),
        sa.Column("outbound_message_id", sa.String(length=36), nullable=True),
        _tenant_fk("signature_requests"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signature_requests")),
        sa.UniqueConstraint("token_hash", name="uq_signature_requests_token_hash"),
    )
    with op.batch_alter_table("signature_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_signature_requests_tenant_id_status", ["tenant_id", "status", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_signature_requests_tenant_id_entity", ["tenant_id", "entity_type", "entity_id"], unique=False
        )

    op.create_table(
        "signature_seals",
        sa.Column("id", sa.String(length=36), nullable=False),
        _tenant(),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=128), nullable=False),
        sa.Column("source_file_id", sa.String(length=36), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("sealed_file_id", sa.String(length=36), nullable=False),
        sa.Column("sealed_sha256", sa.String(length=64), nullable=False),
        sa.Column("signature_ids", sa.Text(), nullable=False),
        sa.Column("chain_seq", sa.Integer(), nullable=False),
        sa.Column("chain_head", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        _tenant_fk("signature_seals"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signature_seals")),
    )
    with op.batch_alter_table("signature_seals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_signature_seals_tenant_id_entity", ["tenant_id", "entity_type", "entity_id", "sealed_at"], unique=False
        )
        batch_op.create_index(
            "ix_signature_seals_tenant_id_sealed_sha256", ["tenant_id", "sealed_sha256"], unique=False
        )

    op.create_table(
        "signature_audit",
        sa.Column("id", sa.String(length=36), nullable=False),
        _tenant(),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=128), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("signature_id", sa.String(length=36), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        _tenant_fk("signature_audit"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signature_audit")),
        sa.UniqueConstraint("tenant_id", "seq", name="uq_signature_audit_tenant_id_seq"),
    )
    with op.batch_alter_table("signature_audit", schema=None) as batch_op:
        batch_op.create_index(
            "ix_signature_audit_tenant_id_entity", ["tenant_id", "entity_type", "entity_id", "seq"], unique=False
        )

    op.create_table(
        "signature_chain_heads",
        _tenant(),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
        _tenant_fk("signature_chain_heads"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_signature_chain_heads")),
    )

    op.create_table(
        "signature_chain_stamps",
        sa.Column("id", sa.String(length=36), nullable=False),
        _tenant(),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("stamped_at", sa.DateTime(timezone=True), nullable=False),
        _tenant_fk("signature_chain_stamps"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signature_chain_stamps")),
        sa.UniqueConstraint("tenant_id", "seq", name="uq_signature_chain_stamps_tenant_id_seq"),
    )


def downgrade() -> None:
    op.drop_table("signature_chain_stamps")
    op.drop_table("signature_chain_heads")
    with op.batch_alter_table("signature_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_signature_audit_tenant_id_entity")
    op.drop_table("signature_audit")
    with op.batch_alter_table("signature_seals", schema=None) as batch_op:
        batch_op.drop_index("ix_signature_seals_tenant_id_sealed_sha256")
        batch_op.drop_index("ix_signature_seals_tenant_id_entity")
    op.drop_table("signature_seals")
    with op.batch_alter_table("signature_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_signature_requests_tenant_id_entity")
        batch_op.drop_index("ix_signature_requests_tenant_id_status")
    op.drop_table("signature_requests")
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.drop_index("ix_signatures_tenant_id_entity")
    op.drop_table("signatures")
