"""Signatures and requests to sign.

A ``Signature`` applies a signature image (or a typed name) to the exact bytes of a document: the
PDF file signed and its SHA-256 are recorded with it. It is revoked, never erased. A
``SignatureRequest`` asks someone outside the tenant to sign through a single-use link: only the
SHA-256 of the link's random token is stored, and the request closes when signed, declined,
cancelled or expired.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from domain.shared.errors import InvalidInput
from domain.shared.model import Aggregate, new_id
from domain.signatures.audit import clean_text
from domain.signatures.errors import AlreadyRevoked, ConsentRequired, RequestClosed

MAX_NAME = 200
MAX_REASON = 500
MIN_EXPIRY = timedelta(minutes=10)
MAX_EXPIRY = timedelta(days=30)
DEFAULT_EXPIRY = timedelta(days=7)


class SignedEntityType(StrEnum):
    """What can be signed: an invoice's or quote's PDF (rendered), a contract's PDF, or any PDF file."""

    INVOICE = "INVOICE"
    QUOTE = "QUOTE"
    CONTRACT = "CONTRACT"
    FILE = "FILE"

    @classmethod
    def parse(cls, value: str, *, field: str = "entityType") -> SignedEntityType:
        try:
            return cls(str(value).strip().upper())
        except ValueError:
            raise InvalidInput(
                f"entityType must be one of {', '.join(cls)}, not {str(value)[:40]!r}", field=field
            ) from None


class SignatureStatus(StrEnum):
    VALID = "VALID"
    REVOKED = "REVOKED"
    DOCUMENT_CHANGED = "DOCUMENT_CHANGED"


class RequestStatus(StrEnum):
    PENDING = "PENDING"
    SIGNED = "SIGNED"
    DECLINED = "DECLINED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"

    @classmethod
    def parse(cls, value: str, *, field: str = "status") -> RequestStatus:
        try:
            return cls(str(value).strip().upper())
        except ValueError:
            raise InvalidInput(f"status must be one of {', '.join(cls)}", field=field) from None


class RequestChannel(StrEnum):
    EMAIL = "EMAIL"
    WHATSAPP = "WHATSAPP"


def parse_person_name(value: str | None, *, field: str, required: bool = False) -> str | None:
    text = clean_text(value, 10_000)
    if text is None:
        if required:
            raise InvalidInput(f"{field} is required", field=field)
        return None
    if len(text) > MAX_NAME:
        raise InvalidInput(f"{field} may have at most {MAX_NAME} characters", field=field)
    return text


def parse_reason(value: str | None, *, field: str = "reason", required: bool = False) -> str | None:
    text = value.strip() if isinstance(value, str) else None
    if text:
        text = "\n".join(clean_text(line, 10_000) or "" for line in text.splitlines()).strip()
    if not text:
        if required:
            raise InvalidInput(f"{field} is required", field=field)
        return None
    if len(text) > MAX_REASON:
        raise InvalidInput(f"{field} may have at most {MAX_REASON} characters", field=field)
    return text


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def new_token() -> str:
    """A signing link's secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def expiry(expires_in: int | None, now: datetime) -> datetime:
    """``expires_in`` seconds from now (10 minutes to 30 days), else 7 days."""
    if expires_in is None:
        return now + DEFAULT_EXPIRY
    lifetime = timedelta(seconds=expires_in)
    if not MIN_EXPIRY <= lifetime <= MAX_EXPIRY:
        raise InvalidInput(
            f"expiresIn must be between {int(MIN_EXPIRY.total_seconds())} and {int(MAX_EXPIRY.total_seconds())} seconds",
            field="expiresIn",
        )
    return now + lifetime


class Signature(Aggregate):
    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        entity_type: SignedEntityType,
        entity_id: str,
        document_file_id: str,
        document_sha256: str,
        image_file_id: str | None,
        typed_name: str | None,
        signer_user_id: str | None,
        signer_name: str | None,
        signer_email: str | None,
        reason: str | None,
        request_id: str | None,
        signed_at: datetime,
        ip: str | None,
        user_agent: str | None,
        revoked_at: datetime | None = None,
        revoked_by: str | None = None,
        revoke_reason: str | None = None,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.entity_type = entity_type
        self.entity_id = entity_id
        self.document_file_id = document_file_id
        self.document_sha256 = document_sha256
        self.image_file_id = image_file_id
        self.typed_name = typed_name
        self.signer_user_id = signer_user_id
        self.signer_name = signer_name
        self.signer_email = signer_email
        self.reason = reason
        self.request_id = request_id
        self.signed_at = signed_at
        self.ip = ip
        self.user_agent = user_agent
        self.revoked_at = revoked_at
        self.revoked_by = revoked_by
        self.revoke_reason = revoke_reason

    @classmethod
    def apply(cls, **fields: object) -> Signature:
        if not fields.get("image_file_id") and not fields.get("typed_name"):
            raise InvalidInput("a signature needs an image or a typed name", field="image")
        return cls(id=new_id(), **fields)  # type: ignore[arg-type]

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def revoke(self, *, by: str, reason: str, now: datetime) -> None:
        if self.revoked:
            raise AlreadyRevoked(f"signature {self.id} was already revoked", field="id")
        self.revoked_at, self.revoked_by, self.revoke_reason = now, by, reason

    def status(self, current_sha256: str | None) -> SignatureStatus:
        if self.revoked:
            return SignatureStatus.REVOKED
        if current_sha256 is not None and current_sha256 != self.document_sha256:
            return SignatureStatus.DOCUMENT_CHANGED
        return SignatureStatus.VALID


class SignatureRequest(Aggregate):
    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        entity_type: SignedEntityType,
        entity_id: str,
        document_file_id: str,
        document_sha256: str,
        document_name: str,
        channel: RequestChannel,
        recipient_name: str,
        recipient_email: str | None,
        recipient_phone: str | None,
        message: str | None,
        token_hash: str,
        status: RequestStatus,
        created_by: str,
        created_at: datetime,
        expires_at: datetime,
        closed_at: datetime | None = None,
        decline_reason: str | None = None,
        signature_id: str | None = None,
        outbound_message_id: str | None = None,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.entity_type = entity_type
        self.entity_id = entity_id
        self.document_file_id = document_file_id
        self.document_sha256 = document_sha256
        self.document_name = document_name
        self.channel = channel
        self.recipient_name = recipient_name
        self.recipient_email = recipient_email
        self.recipient_phone = recipient_phone
        self.message = message
        self.token_hash = token_hash
        self.status = status
        self.created_by = created_by
        self.created_at = created_at
        self.expires_at = expires_at
        self.closed_at = closed_at
        self.decline_reason = decline_reason
        self.signature_id = signature_id
        self.outbound_message_id = outbound_message_id

    @classmethod
    def open(cls, *, token: str, **fields: object) -> SignatureRequest:
        return cls(id=new_id(), token_hash=hash_token(token), status=RequestStatus.PENDING, **fields)  # type: ignore[arg-type]

    @property
    def recipient(self) -> str:
        return self.recipient_email or self.recipient_phone or ""

    def is_expired(self, now: datetime) -> bool:
        return self.status is RequestStatus.PENDING and self.expires_at <= now

    def expire_if_due(self, now: datetime) -> bool:
        """Mark it EXPIRED if its time has passed; True if that happened now."""
        if self.is_expired(now):
            self.status, self.closed_at = RequestStatus.EXPIRED, now
            return True
        return False

    def _must_be_open(self, now: datetime) -> None:
        if self.status is not RequestStatus.PENDING or self.expires_at <= now:
            state = RequestStatus.EXPIRED if self.is_expired(now) else self.status
            raise RequestClosed(state.value)

    def sign(self, *, signature_id: str, consent: bool, now: datetime) -> None:
        self._must_be_open(now)
        if not consent:
            raise ConsentRequired("tick the box to agree to sign electronically", field="consent")
        self.status, self.closed_at, self.signature_id = RequestStatus.SIGNED, now, signature_id

    def decline(self, *, reason: str, now: datetime) -> None:
        self._must_be_open(now)
        self.status, self.closed_at, self.decline_reason = RequestStatus.DECLINED, now, reason

    def cancel(self, *, now: datetime) -> None:
        self._must_be_open(now)
        self.status, self.closed_at = RequestStatus.CANCELLED, now


class SignatureSeal(Aggregate):
    """A sealed PDF: the signed document with its stamps and completion certificate, PAdES-signed."""

    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        entity_type: SignedEntityType,
        entity_id: str,
        source_file_id: str,
        source_sha256: str,
        sealed_file_id: str,
        sealed_sha256: str,
        signature_ids: str,
        chain_seq: int,
        chain_head: str,
        sealed_at: datetime,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.entity_type = entity_type
        self.entity_id = entity_id
        self.source_file_id = source_file_id
        self.source_sha256 = source_sha256
        self.sealed_file_id = sealed_file_id
        self.sealed_sha256 = sealed_sha256
        self.signature_ids = signature_ids
        self.chain_seq = chain_seq
        self.chain_head = chain_head
        self.sealed_at = sealed_at
