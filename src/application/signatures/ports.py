"""Ports of the signatures domain: its repositories, the audit log, and the sealer of PDFs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from application.files.ports import FileReader, FileRepository
from application.jobs.ports import JobOutbox
from application.shared.ports import UnitOfWork
from application.tenancy.ports import TenantDirectory
from domain.signatures.audit import AuditEntry, AuditRecord, ChainReport, ChainStamp
from domain.signatures.model import (
    RequestStatus,
    Signature,
    SignatureRequest,
    SignatureSeal,
    SignedEntityType,
)


class SignatureRepository(Protocol):
    def add(self, signature: Signature) -> None: ...

    def get(self, signature_id: str) -> Signature | None: ...

    def for_entity(self, entity_type: SignedEntityType, entity_id: str) -> list[Signature]:
        """Oldest first."""
        ...


class SignatureRequestRepository(Protocol):
    def add(self, request: SignatureRequest) -> None: ...

    def get(self, request_id: str) -> SignatureRequest | None: ...

    def find(self, status: RequestStatus | None, *, now: datetime, limit: int) -> list[SignatureRequest]:
        """Newest first. PENDING: those still open at ``now``; EXPIRED: also those pending past their time."""
        ...

    def pending_for(self, entity_type: SignedEntityType, entity_id: str) -> list[SignatureRequest]: ...


class SigningLinks(Protocol):
    """Across tenants (system work): which tenant's request a link's token hash opens."""

    def find(self, token_hash: str) -> tuple[str, str] | None:
        """(tenant id, request id), or None."""
        ...


class SealRepository(Protocol):
    def add(self, seal: SignatureSeal) -> None: ...

    def by_sealed_sha256(self, sha256: str) -> SignatureSeal | None: ...

    def for_entity(self, entity_type: SignedEntityType, entity_id: str) -> list[SignatureSeal]:
        """Oldest first."""
        ...


class AuditLog(Protocol):
    """The tenant's hash-chained log: appended to in the unit of work's transaction, never changed."""

    def lock(self) -> None:
        """Take the tenant's chain lock now (held to the end of the transaction): what is read after
        it, every other writer of the tenant's signatures has finished with."""
        ...

    def append(self, record: AuditRecord) -> AuditEntry:
        """Chained after the tenant's last entry (taken under the tenant's chain lock)."""
        ...

    def add_stamp(self, stamp: ChainStamp) -> None: ...

    def stamps(self) -> list[ChainStamp]:
        """The tenant's chain-head timestamps, oldest first."""
        ...

    def of(self, *, entity_type: str, entity_id: str) -> list[AuditEntry]:
        """The entries of one entity, in chain order."""
        ...

    def verify(self) -> ChainReport:
        """Walk the whole chain in order (streamed) and compare its end with the recorded head."""
        ...

    def head(self) -> tuple[int, str]:
        """(last seq, its hash); (0, GENESIS) for an empty chain."""
        ...


class ChainHeads(Protocol):
    """System work: every tenant's chain head that has no timestamp yet."""

    def unstamped(self) -> list[tuple[str, int, str]]:
        """(tenant id, seq, head hash) of each."""
        ...


class SignaturesUnitOfWork(UnitOfWork, Protocol):
    signatures: SignatureRepository
    signature_requests: SignatureRequestRepository
    signing_links: SigningLinks
    signature_chain_heads: ChainHeads
    signature_seals: SealRepository
    signature_audit: AuditLog
    jobs: JobOutbox
    files: FileRepository
    file_views: FileReader
    tenants: TenantDirectory


# --- sealing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Stamp:
    """One signature to draw on the document: an image (PNG/JPEG bytes) or a typed name."""

    signer: str
    signed_at: datetime
    image: bytes | None = None
    typed_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateEvent:
    at: datetime
    event: str
    actor: str
    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateSigner:
    name: str
    email: str | None
    signed_at: datetime
    ip: str | None
    events: tuple[CertificateEvent, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CompletionCertificate:
    document_name: str
    source_sha256: str
    signers: tuple[CertificateSigner, ...]
    chain_seq: int
    chain_head: str
    completed_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SealCheck:
    """What the PDF's own signature says, judged by the sealer."""

    intact: bool
    """The signature is cryptographically valid and covers the whole file, unchanged."""
    trusted: bool
    """It was made by this instance's sealing certificate."""
    problem: str | None = None
    sealed_by: str | None = None
    sealed_at: datetime | None = None
    timestamped_at: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)


class DocumentSealer(Protocol):
    def seal(self, pdf: bytes, stamps: Sequence[Stamp], certificate: CompletionCertificate) -> bytes:
        """The PDF with the stamps on its last page, the certificate as a new last page, PAdES-signed."""
        ...

    def verify(self, pdf: bytes) -> SealCheck: ...

    def timestamp(self, digest: bytes) -> bytes | None:
        """An RFC 3161 timestamp token (DER) over ``digest`` (SHA-256), or None without a TSA."""
        ...


class SignatureImages(Protocol):
    def check(self, data: bytes, *, field: str = "image") -> None:
        """Decode the whole image (already sniffed as PNG or JPEG within the limits); raise
        ``BadSignatureImage`` if its pixel data is damaged."""
        ...


class RequestSender(Protocol):
    """Hands a request's link to the recipient (e-mail or WhatsApp, through those domains)."""

    def __call__(self, request: SignatureRequest, link: str) -> str:
        """The queued message's id."""
        ...


Chunks = Iterator[bytes]
