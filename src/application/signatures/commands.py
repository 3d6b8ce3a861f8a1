"""Commands and queries of the signatures domain."""

from __future__ import annotations

from dataclasses import dataclass, field

from application.files.staging import StagedBlob
from application.shared.messages import Command, Query


@dataclass(frozen=True, slots=True, kw_only=True)
class SignaturePolicy:
    """The instance's limits and where signing links point (from configuration)."""

    public_url: str = "http://127.0.0.1:8000"
    max_image_bytes: int = 1024 * 1024
    max_image_side: int = 4000
    max_page_size: int = 100


# --- inside the tenant ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AddSignature(Command):
    """The acting user's signature (an uploaded image, or one of the tenant's image files) applied
    to the entity's current PDF."""

    entity_type: str
    entity_id: str
    image: StagedBlob | None = None
    image_file_id: str | None = None
    signer_name: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveSignature(Command):
    """Revoke (never erase): the signer, or an owner or admin."""

    signature_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GetSignaturesForEntity(Query):
    entity_type: str
    entity_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GetSignatureById(Query):
    signature_id: str


# --- requests to people outside the tenant -------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SendSignatureApproval(Command):
    """A single-use signing link to ``recipient_email`` (channel EMAIL) or ``recipient_phone``
    (channel WHATSAPP, as a text, or as the approved template ``whatsapp_template`` whose one
    body parameter is the link)."""

    channel: str
    entity_type: str
    entity_id: str
    recipient_name: str
    recipient_email: str | None = None
    recipient_phone: str | None = None
    message: str | None = None
    expires_in: int | None = None
    whatsapp_template: str | None = None
    locale: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelSignatureRequest(Command):
    request_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FindSignatureRequests(Query):
    status: str | None = None
    first: int | None = None


# --- the public signing page (system work: the token is the credential) --------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Visitor:
    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenSigningLink(Command):
    """The page's state; ``record``: write LINK_OPENED (a visit), not when a form is posted."""

    token: str = field(repr=False)
    visitor: Visitor = field(default_factory=Visitor)
    record: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadSigningDocument(Command):
    token: str = field(repr=False)
    visitor: Visitor = field(default_factory=Visitor)


@dataclass(frozen=True, slots=True, kw_only=True)
class SignByLink(Command):
    token: str = field(repr=False)
    consent: bool
    image: bytes | None = None
    typed_name: str | None = None
    visitor: Visitor = field(default_factory=Visitor)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeclineByLink(Command):
    token: str = field(repr=False)
    reason: str
    visitor: Visitor = field(default_factory=Visitor)


# --- sealing and evidence ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SealSignedDocument(Command):
    """The entity's document with every valid signature on its last signed bytes, stamped, certified
    and sealed. ``tenant_id``: the tenant of system work (the ``signatures.seal`` job)."""

    entity_type: str
    entity_id: str
    tenant_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifySignatureAuditChain(Query):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyTenantChain(Command):
    """The CLI's check of one tenant's chain (system work, by slug)."""

    tenant_slug: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifySignedDocument(Query):
    file_id: str | None = None
    content: StagedBlob | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyPdfSeal(Command):
    """Anyone's check of a PDF's seal (no tenant): the bytes only."""

    pdf: bytes = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class TimestampChainHeads(Command):
    """The daily job: each tenant's chain head, timestamped by the TSA."""
