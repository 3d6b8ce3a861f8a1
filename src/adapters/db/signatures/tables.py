"""Signatures' tables and their mapping.

The audit entries are stored exactly as they were hashed (times as their UTC text), so the
chain can be recomputed from the rows alone. ``signature_chain_heads`` holds each tenant's last
seq and hash: its row is the tenant's chain lock, and a chain cut short at its end is told from
it.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from adapters.db.metadata import mapper_registry, metadata
from adapters.db.types import StrEnumType, UtcDateTime, id_column
from domain.signatures.audit import AuditEntry, ChainStamp
from domain.signatures.model import (
    RequestChannel,
    RequestStatus,
    Signature,
    SignatureRequest,
    SignatureSeal,
    SignedEntityType,
)


def _tenant() -> Column[str]:
    return id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)


signatures = Table(
    "signatures",
    metadata,
    id_column(primary_key=True),
    _tenant(),
    Column("entity_type", StrEnumType(SignedEntityType), nullable=False),
    Column("entity_id", String(128), nullable=False),
    id_column("document_file_id", nullable=False),
    Column("document_sha256", String(64), nullable=False),
    id_column("image_file_id", nullable=True),
    Column("typed_name", String(200), nullable=True),
    Column("signer_user_id", String(254), nullable=True),
    Column("signer_name", String(200), nullable=True),
    Column("signer_email", String(254), nullable=True),
    Column("reason", Text, nullable=True),
    id_column("request_id", nullable=True),
    Column("signed_at", UtcDateTime(), nullable=False),
    Column("ip", String(64), nullable=True),
    Column("user_agent", String(300), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("revoked_by", String(254), nullable=True),
    Column("revoke_reason", Text, nullable=True),
    Index("ix_signatures_tenant_id_entity", "tenant_id", "entity_type", "entity_id", "signed_at"),
)

signature_requests = Table(
    "signature_requests",
    metadata,
    id_column(primary_key=True),
    _tenant(),
    Column("entity_type", StrEnumType(SignedEntityType), nullable=False),
    Column("entity_id", String(128), nullable=False),
    id_column("document_file_id", nullable=False),
    Column("document_sha256", String(64), nullable=False),
    Column("document_name", String(255), nullable=False),
    Column("channel", StrEnumType(RequestChannel), nullable=False),
    Column("recipient_name", String(200), nullable=False),
    Column("recipient_email", String(254), nullable=True),
    Column("recipient_phone", String(32), nullable=True),
    Column("message", Text, nullable=True),
    Column("token_hash", String(64), nullable=False),
    Column("status", StrEnumType(RequestStatus), nullable=False),
    Column("created_by", String(254), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("closed_at", UtcDateTime(), nullable=True),
    Column("decline_reason", Text, nullable=True),
    id_column("signature_id", nullable=True),
    id_column("outbound_message_id", nullable=True),
    UniqueConstraint("token_hash", name="uq_signature_requests_token_hash"),
    Index("ix_signature_requests_tenant_id_status", "tenant_id", "status", "created_at"),
    Index("ix_signature_requests_tenant_id_entity", "tenant_id", "entity_type", "entity_id"),
)

signature_seals = Table(
    "signature_seals",
    metadata,
    id_column(primary_key=True),
    _tenant(),
    Column("entity_type", StrEnumType(SignedEntityType), nullable=False),
    Column("entity_id", String(128), nullable=False),
    id_column("source_file_id", nullable=False),
    Column("source_sha256", String(64), nullable=False),
    id_column("sealed_file_id", nullable=False),
    Column("sealed_sha256", String(64), nullable=False),
    Column("signature_ids", Text, nullable=False),
    Column("chain_seq", Integer, nullable=False),
    Column("chain_head", String(64), nullable=False),
    Column("sealed_at", UtcDateTime(), nullable=False),
    Index("ix_signature_seals_tenant_id_entity", "tenant_id", "entity_type", "entity_id", "sealed_at"),
    Index("ix_signature_seals_tenant_id_sealed_sha256", "tenant_id", "sealed_sha256"),
)

signature_audit = Table(
    "signature_audit",
    metadata,
    id_column(primary_key=True),
    _tenant(),
    Column("seq", Integer, nullable=False),
    Column("event", String(32), nullable=False),
    Column("occurred_at", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("entity_id", String(128), nullable=False),
    Column("document_sha256", String(64), nullable=True),
    id_column("request_id", nullable=True),
    id_column("signature_id", nullable=True),
    Column("ip", String(64), nullable=True),
    Column("user_agent", String(300), nullable=True),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
    UniqueConstraint("tenant_id", "seq", name="uq_signature_audit_tenant_id_seq"),
    Index("ix_signature_audit_tenant_id_entity", "tenant_id", "entity_type", "entity_id", "seq"),
)

signature_chain_heads = Table(
    "signature_chain_heads",
    metadata,
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("locked_at", UtcDateTime(), nullable=False),
)

signature_chain_stamps = Table(
    "signature_chain_stamps",
    metadata,
    id_column(primary_key=True),
    _tenant(),
    Column("seq", Integer, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("token", Text, nullable=False),
    Column("stamped_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "seq", name="uq_signature_chain_stamps_tenant_id_seq"),
)


def map_classes() -> None:
    mapper_registry.map_imperatively(Signature, signatures)
    mapper_registry.map_imperatively(SignatureRequest, signature_requests)
    mapper_registry.map_imperatively(SignatureSeal, signature_seals)
    mapper_registry.map_imperatively(AuditEntry, signature_audit)
    mapper_registry.map_imperatively(ChainStamp, signature_chain_stamps)
