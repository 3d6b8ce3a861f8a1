"""Signatures inside the tenant: apply one (``addSignature``), revoke one (``removeSignature``), read them.

The signature image is checked by its bytes (PNG or JPEG, size and pixel limits, SVG refused)
before anything is written. An uploaded image is kept as a temporary file first and linked to
its signature (which keeps it for good) in the transaction that records the signature and its
audit entry, so a failure leaves at most a temporary file the garbage collection removes.
Recording a signature also queues the sealing of the document (``signatures.seal``) unless
requests to sign it are still pending.
"""

from __future__ import annotations

from application.files.keeping import FileKeeper, blob_key
from application.files.ports import FileStorage
from application.files.staging import StagedBlob
from application.shared.actors import tenant_actor
from application.shared.modules import Messages
from application.shared.ports import Clock
from application.signatures.commands import (
    AddSignature,
    GetSignatureById,
    GetSignaturesForEntity,
    RemoveSignature,
    SignaturePolicy,
)
from application.signatures.documents import current_document, parse_entity, render_document
from application.signatures.ports import SignatureImages, SignaturesUnitOfWork
from application.signatures.views import EntitySignaturesView, SignatureView
from domain.files.model import EntityType
from domain.shared.errors import InvalidInput, NotFound
from domain.shared.model import parse_id
from domain.signatures.audit import AuditEvent, AuditRecord
from domain.signatures.errors import NotYourSignature, SignatureImageTooLarge, SignatureNotFound
from domain.signatures.images import check_signature_image
from domain.signatures.model import Signature, SignedEntityType, parse_person_name, parse_reason
from domain.tenancy.model import Actor

SEAL_JOB = "signatures.seal"


def signature_view(signature: Signature, current_sha256: str | None) -> SignatureView:
    return SignatureView(
        id=signature.id,
        entity_type=signature.entity_type,
        entity_id=signature.entity_id,
        status=signature.status(current_sha256),
        document_file_id=signature.document_file_id,
        document_sha256=signature.document_sha256,
        image_file_id=signature.image_file_id,
        typed_name=signature.typed_name,
        signer_user_id=signature.signer_user_id,
        signer_name=signature.signer_name,
        signer_email=signature.signer_email,
        reason=signature.reason,
        request_id=signature.request_id,
        signed_at=signature.signed_at,
        revoked_at=signature.revoked_at,
        revoked_by=signature.revoked_by,
        revoke_reason=signature.revoke_reason,
    )


def queue_seal(uow: SignaturesUnitOfWork, kind: SignedEntityType, entity_id: str, signature_id: str) -> None:
    """Seal once nobody is left to sign: no request on the entity is still pending."""
    if not uow.signature_requests.pending_for(kind, entity_id):
        uow.jobs.enqueue(
            SEAL_JOB,
            {"entity_type": kind.value, "entity_id": entity_id},
            idempotency_key=f"seal:{kind.value}:{entity_id}:{signature_id}",
        )


def user_label(actor: Actor) -> str:
    return f"user:{actor.user_id}"


class AddSignatureHandler:
    def __init__(self, messages: Messages, storage: FileStorage, keeper: FileKeeper, clock: Clock,
                 policy: SignaturePolicy, images: SignatureImages) -> None:
        self._images = images
        self._messages = messages
        self._storage = storage
        self._keeper = keeper
        self._clock = clock
        self._policy = policy

    def __call__(self, cmd: AddSignature, uow: SignaturesUnitOfWork) -> SignatureView:
        actor = tenant_actor(cmd.actor)
        try:
            kind, entity_id = parse_entity(cmd.entity_type, cmd.entity_id)
            signer_name = parse_person_name(cmd.signer_name, field="signerName")
            reason = parse_reason(cmd.reason)
            if (cmd.image is None) == (cmd.image_file_id in (None, "")):
                raise InvalidInput("give the signature as image or as imageFileId (one of them)", field="image")
            if cmd.image is not None:
                self._check_upload(cmd.image)
                image_file_id = None
            else:
                image_file_id = self._check_file(uow, actor, parse_id(cmd.image_file_id, field="imageFileId"))
            document = render_document(self._messages, uow, actor, kind, entity_id)
        except BaseException:
            if cmd.image is not None:
                self._storage.discard_staged(cmd.image.ref)
            raise
        if cmd.image is not None:
            image_file_id = self._keeper.keep(uow, actor, cmd.image, name="signature", entity=None, temporary=True).id
        assert image_file_id is not None
        now = self._clock.now()
        with uow:
            signature = Signature.apply(
                tenant_id=actor.tenant_id, entity_type=kind, entity_id=entity_id,
                document_file_id=document.id, document_sha256=document.sha256,
                image_file_id=image_file_id, typed_name=None, signer_user_id=actor.user_id,
                signer_name=signer_name, signer_email=None, reason=reason, request_id=None,
                signed_at=now, ip=None, user_agent=None,
            )
            image = uow.files.get(image_file_id)
            if image is None:
                raise NotFound("the signature image is gone; upload it again", field="image")
            image.link(EntityType.SIGNATURE, signature.id, now=now)
            uow.signatures.add(signature)
            uow.signature_audit.append(AuditRecord(
                event=AuditEvent.SIGNED, occurred_at=now, actor=user_label(actor), entity_type=kind.value,
                entity_id=entity_id, document_sha256=document.sha256, signature_id=signature.id,
                details={"signer": signer_name or "", "reason": reason or "", "image_file_id": image_file_id},
            ))
            queue_seal(uow, kind, entity_id, signature.id)
            uow.commit()
            return signature_view(signature, document.sha256)

    def _check_upload(self, staged: StagedBlob) -> None:
        self._check_size(staged.size, "image")
        data = b"".join(self._storage.read_staged(staged.ref))
        check_signature_image(data, max_bytes=self._policy.max_image_bytes, max_side=self._policy.max_image_side)
        self._images.check(data)

    def _check_size(self, size: int, field: str) -> None:
        """Refused before its bytes are read."""
        if size > self._policy.max_image_bytes:
            raise SignatureImageTooLarge(
                f"the signature image has {size} bytes; at most {self._policy.max_image_bytes} are accepted",
                field=field,
            )

    def _check_file(self, uow: SignaturesUnitOfWork, actor: Actor, file_id: str) -> str:
        with uow:
            file = uow.file_views.get(file_id)
        if file is None:
            raise NotFound(f"file {file_id} not found", field="imageFileId")
        self._check_size(file.size, "imageFileId")
        data = b"".join(self._storage.read(blob_key(actor.tenant_id, file.sha256)))
        check_signature_image(
            data, max_bytes=self._policy.max_image_bytes, max_side=self._policy.max_image_side, field="imageFileId"
        )
        self._images.check(data, field="imageFileId")
        return file.id


class RemoveSignatureHandler:
    """The signer may revoke their own signature; an owner or admin anyone's. The revocation is an event."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: RemoveSignature, uow: SignaturesUnitOfWork) -> SignatureView:
        actor = tenant_actor(cmd.actor)
        signature_id = parse_id(cmd.signature_id, field="id")
        reason = parse_reason(cmd.reason, required=True)
        now = self._clock.now()
        with uow:
            signature = uow.signatures.get(signature_id)
            if signature is None:
                raise SignatureNotFound(f"signature {signature_id} not found", field="id")
            if signature.signer_user_id != actor.user_id and not actor.is_admin:
                raise NotYourSignature("only the signer, an owner or an admin may revoke this signature", field="id")
            signature.revoke(by=actor.user_id, reason=reason or "", now=now)
            uow.signature_audit.append(AuditRecord(
                event=AuditEvent.REVOKED, occurred_at=now, actor=user_label(actor),
                entity_type=signature.entity_type.value, entity_id=signature.entity_id,
                document_sha256=signature.document_sha256, signature_id=signature.id,
                request_id=signature.request_id, details={"reason": reason or ""},
            ))
            current = current_document(uow, signature.entity_type, signature.entity_id)
            uow.commit()
            return signature_view(signature, current.sha256 if current else None)


class GetSignaturesForEntityHandler:
    def __call__(self, query: GetSignaturesForEntity, uow: SignaturesUnitOfWork) -> EntitySignaturesView:
        tenant_actor(query.actor)
        kind, entity_id = parse_entity(query.entity_type, query.entity_id)
        with uow:
            current = current_document(uow, kind, entity_id)
            sha = current.sha256 if current else None
            signatures = uow.signatures.for_entity(kind, entity_id)
            seals = uow.signature_seals.for_entity(kind, entity_id)
            return EntitySignaturesView(
                entity_type=kind, entity_id=entity_id, current_sha256=sha,
                signatures=tuple(signature_view(s, sha) for s in signatures),
                sealed_file_id=seals[-1].sealed_file_id if seals else None,
            )


class GetSignatureByIdHandler:
    def __call__(self, query: GetSignatureById, uow: SignaturesUnitOfWork) -> SignatureView:
        tenant_actor(query.actor)
        signature_id = parse_id(query.signature_id, field="id")
        with uow:
            signature = uow.signatures.get(signature_id)
            if signature is None:
                raise SignatureNotFound(f"signature {signature_id} not found", field="id")
            current = current_document(uow, signature.entity_type, signature.entity_id)
            return signature_view(signature, current.sha256 if current else None)

