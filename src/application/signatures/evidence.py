"""Evidence: the audit chain checked end to end, and a sealed PDF verified.

``verifySignatureAuditChain`` walks the tenant's whole chain in order and names the first entry
that was edited, removed or reordered. ``verifySignedDocument`` asks the sealer whether the PDF's
PAdES signature is intact and made by this instance's certificate, then whether the exact file
is one this tenant sealed, and if so lists the events of its document from the audit trail.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

from application.files.keeping import blob_key
from application.files.ports import FileStorage
from application.shared.actors import tenant_actor
from application.shared.ports import Clock
from application.signatures.commands import (
    TimestampChainHeads,
    VerifyPdfSeal,
    VerifySignatureAuditChain,
    VerifySignedDocument,
    VerifyTenantChain,
)
from application.signatures.ports import DocumentSealer, SealCheck, SignaturesUnitOfWork
from application.signatures.views import AuditEntryView, DocumentVerification
from domain.shared.errors import InvalidInput, NotFound
from domain.shared.model import new_id, parse_id
from domain.signatures.audit import AuditEntry, ChainReport, ChainStamp

MAX_VERIFY_BYTES = 50 * 1024 * 1024


def entry_view(entry: AuditEntry) -> AuditEntryView:
    return AuditEntryView(
        seq=entry.seq, id=entry.id, event=entry.event, occurred_at=entry.occurred_at, actor=entry.actor,
        ip=entry.ip, user_agent=entry.user_agent, entity_type=entry.entity_type, entity_id=entry.entity_id,
        document_sha256=entry.document_sha256, entry_hash=entry.entry_hash,
    )


class VerifySignatureAuditChainHandler:
    def __call__(self, query: VerifySignatureAuditChain, uow: SignaturesUnitOfWork) -> ChainReport:
        tenant_actor(query.actor)
        with uow:
            return uow.signature_audit.verify()


class VerifyTenantChainHandler:
    def __init__(self, uow_factory: Callable[[str | None], SignaturesUnitOfWork]) -> None:
        self._uow_factory = uow_factory

    def __call__(self, cmd: VerifyTenantChain, uow: SignaturesUnitOfWork) -> ChainReport:
        with uow:
            tenant = uow.tenants.by_slug(cmd.tenant_slug)
            if tenant is None:
                raise NotFound(f"tenant {cmd.tenant_slug!r} not found", field="tenant")
            tenant_id = tenant.id
        work = self._uow_factory(tenant_id)
        with work:
            return work.signature_audit.verify()


class VerifyPdfSealHandler:
    def __init__(self, sealer: DocumentSealer) -> None:
        self._sealer = sealer

    def __call__(self, cmd: VerifyPdfSeal, uow: object) -> SealCheck:
        if len(cmd.pdf) > MAX_VERIFY_BYTES:
            raise InvalidInput(f"the PDF exceeds {MAX_VERIFY_BYTES} bytes", field="file")
        return self._sealer.verify(cmd.pdf)


class VerifySignedDocumentHandler:
    def __init__(self, sealer: DocumentSealer, storage: FileStorage) -> None:
        self._sealer = sealer
        self._storage = storage

    def __call__(self, query: VerifySignedDocument, uow: SignaturesUnitOfWork) -> DocumentVerification:
        actor = tenant_actor(query.actor)
        if (query.content is None) == (query.file_id in (None, "")):
            raise InvalidInput("give the PDF as file or as fileId (one of them)", field="file")
        if query.content is not None:
            try:
                data = b"".join(self._storage.read_staged(query.content.ref))
            finally:
                self._storage.discard_staged(query.content.ref)
        else:
            file_id = parse_id(query.file_id, field="fileId")
            with uow:
                file = uow.file_views.get(file_id)
            if file is None:
                raise NotFound(f"file {file_id} not found", field="fileId")
            data = b"".join(self._storage.read(blob_key(actor.tenant_id, file.sha256)))
        check = self._sealer.verify(data)
        sha256 = hashlib.sha256(data).hexdigest()
        with uow:
            seal = uow.signature_seals.by_sealed_sha256(sha256)
            if seal is None:
                return DocumentVerification(check=check, sha256=sha256, tenant_document=False)
            events = [
                entry_view(e)
                for e in uow.signature_audit.of(entity_type=seal.entity_type.value, entity_id=seal.entity_id)
                if e.document_sha256 == seal.source_sha256 and e.seq <= seal.chain_seq + 1
            ]
            return DocumentVerification(
                check=check, sha256=sha256, tenant_document=True, entity_type=seal.entity_type.value,
                entity_id=seal.entity_id, sealed_file=uow.file_views.get(seal.sealed_file_id), events=tuple(events),
            )


class TimestampChainHeadsHandler:
    """The daily job: each tenant's chain head, timestamped by the TSA (none configured: nothing)."""

    def __init__(self, sealer: DocumentSealer, uow_factory: Callable[[str | None], SignaturesUnitOfWork],
                 clock: Clock) -> None:
        self._sealer = sealer
        self._uow_factory = uow_factory
        self._clock = clock

    def __call__(self, cmd: TimestampChainHeads, uow: SignaturesUnitOfWork) -> int:
        with uow:
            heads = uow.signature_chain_heads.unstamped()
        done = 0
        for tenant_id, seq, head in heads:
            token = self._sealer.timestamp(bytes.fromhex(head))
            if token is None:
                return done
            work = self._uow_factory(tenant_id)
            with work:
                work.signature_audit.add_stamp(ChainStamp(
                    id=new_id(), tenant_id=tenant_id, seq=seq, head_hash=head,
                    token=base64.b64encode(token).decode("ascii"), stamped_at=self._clock.now(),
                ))
                work.commit()
            done += 1
        return done
