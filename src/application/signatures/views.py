"""Read models of the signatures domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.files.views import FileView
from application.signatures.ports import SealCheck
from domain.signatures.model import RequestChannel, RequestStatus, SignatureStatus, SignedEntityType


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureView:
    id: str
    entity_type: SignedEntityType
    entity_id: str
    status: SignatureStatus
    document_file_id: str
    document_sha256: str
    image_file_id: str | None
    typed_name: str | None
    signer_user_id: str | None
    signer_name: str | None
    signer_email: str | None
    reason: str | None
    request_id: str | None
    signed_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class EntitySignaturesView:
    entity_type: SignedEntityType
    entity_id: str
    current_sha256: str | None
    signatures: tuple[SignatureView, ...]
    sealed_file_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureRequestView:
    id: str
    entity_type: SignedEntityType
    entity_id: str
    document_sha256: str
    document_name: str
    channel: RequestChannel
    recipient_name: str
    recipient_email: str | None
    recipient_phone: str | None
    status: RequestStatus
    created_at: datetime
    expires_at: datetime
    closed_at: datetime | None
    decline_reason: str | None
    signature_id: str | None
    outbound_message_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SentRequestView:
    request: SignatureRequestView
    link: str
    """The signing link: returned once, to the caller who created it (only its hash is stored)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningPageView:
    """What the public page may show: the document and the recipient, nothing else of the tenant."""

    state: str  # OPEN | SIGNED | DECLINED | CANCELLED | EXPIRED | UNKNOWN
    document_name: str = ""
    recipient_name: str = ""
    message: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningDocument:
    name: str
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntryView:
    seq: int
    id: str
    event: str
    occurred_at: str
    actor: str
    ip: str | None
    user_agent: str | None
    entity_type: str
    entity_id: str
    document_sha256: str | None
    entry_hash: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentVerification:
    check: SealCheck
    sha256: str
    tenant_document: bool
    entity_type: str | None = None
    entity_id: str | None = None
    sealed_file: FileView | None = None
    events: tuple[AuditEntryView, ...] = ()
