"""Sealing a signed document: the PDF that was signed, each valid signature stamped on it, a
completion certificate page (document, SHA-256 before sealing, each signer's events with times
and IPs, the audit chain's head), then the instance's PAdES signature (and RFC 3161 timestamp
when a TSA is configured). The sealed PDF is kept as a file linked to the entity, and the seal
is an audit entry.
"""

from __future__ import annotations

from datetime import datetime

from application.files.keeping import FileKeeper, blob_key
from application.files.ports import FileStorage
from application.files.staging import stage_chunks
from application.files.views import FileView
from application.shared.ports import Clock
from application.signatures.commands import SealSignedDocument
from application.signatures.documents import file_entity, parse_entity
from application.signatures.ports import (
    CertificateEvent,
    CertificateSigner,
    CompletionCertificate,
    DocumentSealer,
    SignaturesUnitOfWork,
    Stamp,
)
from domain.shared.errors import NotFound
from domain.shared.model import new_id
from domain.signatures.audit import AuditEntry, AuditEvent, AuditRecord
from domain.signatures.errors import NoDocument
from domain.signatures.model import Signature, SignatureSeal
from domain.tenancy.model import Actor, Role

SEALER = "istmo:sealer"


def sealed_name(name: str) -> str:
    stem = name[:-4] if name.lower().endswith(".pdf") else name
    return f"{stem} (firmado).pdf"


def _event(entry: AuditEntry) -> CertificateEvent:
    return CertificateEvent(
        at=datetime.fromisoformat(entry.occurred_at), event=entry.event,
        actor=entry.actor, ip=entry.ip, user_agent=entry.user_agent,
    )


def _signer(signature: Signature, entries: list[AuditEntry]) -> CertificateSigner:
    mine = [
        e for e in entries
        if e.signature_id == signature.id or (signature.request_id and e.request_id == signature.request_id)
    ]
    return CertificateSigner(
        name=signature.signer_name or signature.typed_name or (signature.signer_user_id or ""),
        email=signature.signer_email, signed_at=signature.signed_at, ip=signature.ip,
        events=tuple(_event(e) for e in mine),
    )


class SealSignedDocumentHandler:
    def __init__(self, sealer: DocumentSealer, storage: FileStorage, keeper: FileKeeper, clock: Clock) -> None:
        self._sealer = sealer
        self._storage = storage
        self._keeper = keeper
        self._clock = clock

    def __call__(self, cmd: SealSignedDocument, uow: SignaturesUnitOfWork) -> FileView:
        tenant_id = cmd.actor.tenant_id if cmd.actor is not None else cmd.tenant_id
        if tenant_id is None:
            raise PermissionError("sealing runs for one tenant")
        kind, entity_id = parse_entity(cmd.entity_type, cmd.entity_id)
        with uow:
            signatures = [s for s in uow.signatures.for_entity(kind, entity_id) if not s.revoked]
            if not signatures:
                raise NoDocument(f"{kind.value} {entity_id} has no valid signature to seal", field="entityId")
            source_sha, source_id = signatures[-1].document_sha256, signatures[-1].document_file_id
            signatures = [s for s in signatures if s.document_sha256 == source_sha]
            source = uow.file_views.get(source_id)
            if source is None:
                raise NotFound("the signed document's file is gone", field="entityId")
            entries = [
                e for e in uow.signature_audit.of(entity_type=kind.value, entity_id=entity_id)
                if e.document_sha256 == source_sha
            ]
            chain_seq, chain_head = uow.signature_audit.head()
            images = {
                s.id: uow.file_views.get(s.image_file_id) for s in signatures if s.image_file_id is not None
            }
            now = self._clock.now()
            stamps = [
                Stamp(
                    signer=s.signer_name or s.typed_name or "", signed_at=s.signed_at, typed_name=s.typed_name,
                    image=self._read(tenant_id, images[s.id]) if images.get(s.id) else None,
                )
                for s in signatures
            ]
            certificate = CompletionCertificate(
                document_name=source.name, source_sha256=source_sha,
                signers=tuple(_signer(s, entries) for s in signatures),
                chain_seq=chain_seq, chain_head=chain_head, completed_at=now,
            )
            signature_ids = ",".join(s.id for s in signatures)
            done = [seal for seal in uow.signature_seals.for_entity(kind, entity_id)
                    if seal.signature_ids == signature_ids]
            if done:  # these signatures were sealed already (two seal jobs, one set of signatures)
                existing = uow.file_views.get(done[-1].sealed_file_id)
                if existing is not None:
                    return existing
        sealed = self._sealer.seal(self._read(tenant_id, source), stamps, certificate)
        actor = cmd.actor or Actor(tenant_id=tenant_id, user_id=SEALER, role=Role.MEMBER)
        staged = stage_chunks(self._storage, [sealed], max_size=len(sealed))
        view = self._keeper.keep(uow, actor, staged, name=sealed_name(source.name),
                                 entity=file_entity(kind, entity_id), temporary=False)
        with uow:
            uow.signature_seals.add(SignatureSeal(
                id=new_id(), tenant_id=tenant_id, entity_type=kind, entity_id=entity_id,
                source_file_id=source.id, source_sha256=source_sha, sealed_file_id=view.id,
                sealed_sha256=view.sha256, signature_ids=signature_ids,
                chain_seq=chain_seq, chain_head=chain_head, sealed_at=now,
            ))
            uow.signature_audit.append(AuditRecord(
                event=AuditEvent.SEALED, occurred_at=now, actor=SEALER, entity_type=kind.value,
                entity_id=entity_id, document_sha256=source_sha,
                details={"sealed_sha256": view.sha256, "sealed_file_id": view.id,
                         "signatures": str(len(certificate.signers))},
            ))
            uow.commit()
        return view

    def _read(self, tenant_id: str, file: FileView | None) -> bytes:
        assert file is not None
        return b"".join(self._storage.read(blob_key(tenant_id, file.sha256)))
