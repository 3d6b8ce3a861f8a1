"""Which bytes are signed: the entity's current PDF, and reading files' bytes.

An invoice's or quote's PDF is rendered through the bus by the pdf module (renders are
byte-identical for the same data and layout, so signing twice signs the same file). A
contract's PDF is the newest PDF file linked to it; a FILE is the PDF file named. Sealed
outputs, also linked to their entity, are never "the current document".

For a signature's status the document is not rendered again: its current PDF is the newest
PDF linked to the entity (what the last render produced).
"""

from __future__ import annotations

from application.files.keeping import blob_key
from application.files.ports import FileStorage
from application.files.views import EntityRef, FileView
from application.pdf.commands import RenderInvoicePdf, RenderQuotePdf
from application.shared.modules import Messages
from application.signatures.ports import SignaturesUnitOfWork
from domain.files.model import EntityType, parse_entity_id
from domain.shared.errors import NotFound
from domain.shared.model import parse_id
from domain.signatures.errors import NoDocument
from domain.signatures.model import SignedEntityType
from domain.tenancy.model import Actor

PDF = "application/pdf"


def parse_entity(entity_type: str, entity_id: str) -> tuple[SignedEntityType, str]:
    kind = SignedEntityType.parse(entity_type)
    if kind is SignedEntityType.CONTRACT:
        return kind, parse_entity_id(entity_id)
    return kind, parse_id(entity_id, field="entityId")


def file_entity(kind: SignedEntityType, entity_id: str) -> EntityRef:
    """Where a sealed output is linked: the entity itself (a FILE's under SIGNATURE/<file id>)."""
    if kind is SignedEntityType.FILE:
        return EntityRef(EntityType.SIGNATURE, entity_id)
    return EntityRef(EntityType(kind.value), entity_id)


def read_bytes(storage: FileStorage, tenant_id: str, file: FileView) -> bytes:
    return b"".join(storage.read(blob_key(tenant_id, file.sha256)))


def render_document(messages: Messages, uow: SignaturesUnitOfWork, actor: Actor,
                    kind: SignedEntityType, entity_id: str) -> FileView:
    """The exact PDF to sign now (an invoice or quote is rendered first)."""
    if kind is SignedEntityType.INVOICE:
        return messages.handle(RenderInvoicePdf(actor=actor, invoice_id=entity_id))  # type: ignore[no-any-return]
    if kind is SignedEntityType.QUOTE:
        return messages.handle(RenderQuotePdf(actor=actor, quote_id=entity_id))  # type: ignore[no-any-return]
    with uow:
        found = current_document(uow, kind, entity_id)
    if found is None:
        raise NoDocument(f"{kind.value} {entity_id} has no PDF to sign", field="entityId")
    return found


def current_document(uow: SignaturesUnitOfWork, kind: SignedEntityType, entity_id: str) -> FileView | None:
    """Inside ``uow``: the entity's PDF as it stands (None if it has none)."""
    if kind is SignedEntityType.FILE:
        file = uow.file_views.get(entity_id)
        if file is None:
            raise NotFound(f"file {entity_id} not found", field="entityId")
        if file.mime != PDF:
            raise NoDocument(f"file {entity_id} is {file.mime}, not a PDF", field="entityId")
        return file
    ref = EntityRef(EntityType(kind.value), entity_id)
    sealed = {seal.sealed_file_id for seal in uow.signature_seals.for_entity(kind, entity_id)}
    pdfs = [f for f in uow.file_views.by_entities([ref]).get(ref, []) if f.mime == PDF and f.id not in sealed]
    return pdfs[-1] if pdfs else None
