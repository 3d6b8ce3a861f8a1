"""The public signing link: open it, read the document, sign or decline (system work: the token
is the credential, looked up by its hash across tenants, then handled in its tenant).

Every visit is an audit entry with the visitor's IP and user agent. A request past its time is
marked EXPIRED when its link is next used. Signing takes the tenant's chain lock before reading
the request, so two submissions of one link cannot both sign.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from application.files.keeping import FileKeeper, blob_key
from application.files.ports import FileStorage
from application.files.staging import stage_chunks
from application.shared.ports import Clock
from application.signatures.commands import (
    DeclineByLink,
    OpenSigningLink,
    ReadSigningDocument,
    SignaturePolicy,
    SignByLink,
    Visitor,
)
from application.signatures.ports import SignatureImages, SignaturesUnitOfWork
from application.signatures.signing import queue_seal
from application.signatures.views import SigningDocument, SigningPageView
from domain.files.model import EntityType
from domain.shared.errors import InvalidInput
from domain.signatures.audit import AuditEvent, AuditRecord
from domain.signatures.errors import ConsentRequired, RequestClosed, RequestNotFound
from domain.signatures.images import check_signature_image
from domain.signatures.model import (
    RequestStatus,
    Signature,
    SignatureRequest,
    hash_token,
    parse_person_name,
    parse_reason,
)
from domain.tenancy.model import Actor, Role

_TOKEN_MAX = 128


def _record(request: SignatureRequest, event: AuditEvent, visitor: Visitor, now: Any, **extra: Any) -> AuditRecord:
    details = extra.pop("details", {})
    return AuditRecord(
        event=event, occurred_at=now, actor=f"recipient:{request.recipient}", entity_type=request.entity_type.value,
        entity_id=request.entity_id, document_sha256=request.document_sha256, request_id=request.id,
        ip=visitor.ip, user_agent=visitor.user_agent, details=details, **extra,
    )


class _Links:
    def __init__(self, uow_factory: Callable[[str | None], SignaturesUnitOfWork], clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    def _find(self, uow: SignaturesUnitOfWork, token: str) -> tuple[str, str]:
        if not token or len(token) > _TOKEN_MAX:
            raise RequestNotFound("this signing link is not valid", field="token")
        with uow:
            found = uow.signing_links.find(hash_token(token))
        if found is None:
            raise RequestNotFound("this signing link is not valid", field="token")
        return found

    def _expire(self, uow: SignaturesUnitOfWork, request: SignatureRequest, visitor: Visitor) -> bool:
        now = self._clock.now()
        if request.expire_if_due(now):
            uow.signature_audit.append(_record(request, AuditEvent.EXPIRED, visitor, now))
            uow.commit()
            return True
        return False


class OpenSigningLinkHandler(_Links):
    def __call__(self, cmd: OpenSigningLink, uow: SignaturesUnitOfWork) -> SigningPageView:
        tenant_id, request_id = self._find(uow, cmd.token)
        work = self._uow_factory(tenant_id)
        with work:
            work.signature_audit.lock()
            request = work.signature_requests.get(request_id)
            assert request is not None
            expired = self._expire(work, request, cmd.visitor)
            if not expired and cmd.record and request.status is RequestStatus.PENDING:
                work.signature_audit.append(_record(request, AuditEvent.LINK_OPENED, cmd.visitor, self._clock.now()))
                work.commit()
            state = "OPEN" if request.status is RequestStatus.PENDING else request.status.value
            return SigningPageView(
                state=state, document_name=request.document_name, recipient_name=request.recipient_name,
                message=request.message, expires_at=request.expires_at,
            )


class ReadSigningDocumentHandler(_Links):
    def __init__(self, uow_factory: Callable[[str | None], SignaturesUnitOfWork], clock: Clock,
                 storage: FileStorage) -> None:
        super().__init__(uow_factory, clock)
        self._storage = storage

    def __call__(self, cmd: ReadSigningDocument, uow: SignaturesUnitOfWork) -> SigningDocument:
        tenant_id, request_id = self._find(uow, cmd.token)
        work = self._uow_factory(tenant_id)
        with work:
            work.signature_audit.lock()
            request = work.signature_requests.get(request_id)
            assert request is not None
            if self._expire(work, request, cmd.visitor) or request.status is not RequestStatus.PENDING:
                raise RequestClosed(request.status.value)
            work.signature_audit.append(_record(request, AuditEvent.DOCUMENT_VIEWED, cmd.visitor, self._clock.now()))
            work.commit()
        data = b"".join(self._storage.read(blob_key(tenant_id, request.document_sha256)))
        return SigningDocument(name=request.document_name, data=data)


class SignByLinkHandler(_Links):
    def __init__(self, uow_factory: Callable[[str | None], SignaturesUnitOfWork], clock: Clock,
                 storage: FileStorage, keeper: FileKeeper, policy: SignaturePolicy, images: SignatureImages) -> None:
        super().__init__(uow_factory, clock)
        self._images = images
        self._storage = storage
        self._keeper = keeper
        self._policy = policy

    def __call__(self, cmd: SignByLink, uow: SignaturesUnitOfWork) -> SigningPageView:
        tenant_id, request_id = self._find(uow, cmd.token)
        typed = parse_person_name(cmd.typed_name, field="typedName")
        if cmd.image is None and typed is None:
            raise InvalidInput("draw your signature or type your name", field="signature")
        if cmd.image is not None:
            check_signature_image(cmd.image, max_bytes=self._policy.max_image_bytes,
                                  max_side=self._policy.max_image_side, field="signature")
            self._images.check(cmd.image, field="signature")
        work = self._uow_factory(tenant_id)
        with work:
            request = work.signature_requests.get(request_id)
            assert request is not None
            if request.is_expired(self._clock.now()):
                raise RequestClosed(RequestStatus.EXPIRED.value)
            if request.status is not RequestStatus.PENDING:
                raise RequestClosed(request.status.value)
        if not cmd.consent:
            raise ConsentRequired("tick the box to agree to sign electronically", field="consent")
        image_file_id = None
        if cmd.image is not None:
            actor = Actor(tenant_id=tenant_id, user_id=f"signer:{request_id}", role=Role.MEMBER)
            staged = stage_chunks(self._storage, [cmd.image], max_size=self._policy.max_image_bytes)
            image_file_id = self._keeper.keep(work, actor, staged, name="signature", entity=None, temporary=True).id
        with work:
            work.signature_audit.lock()
            request = work.signature_requests.get(request_id)
            assert request is not None
            now = self._clock.now()
            if self._expire(work, request, cmd.visitor):
                raise RequestClosed(RequestStatus.EXPIRED.value)
            signature = Signature.apply(
                tenant_id=tenant_id, entity_type=request.entity_type, entity_id=request.entity_id,
                document_file_id=request.document_file_id, document_sha256=request.document_sha256,
                image_file_id=image_file_id, typed_name=None if image_file_id else typed,
                signer_user_id=None, signer_name=typed or request.recipient_name,
                signer_email=request.recipient_email, reason=None, request_id=request.id,
                signed_at=now, ip=cmd.visitor.ip, user_agent=cmd.visitor.user_agent,
            )
            request.sign(signature_id=signature.id, consent=cmd.consent, now=now)
            if image_file_id is not None:
                image = work.files.get(image_file_id)
                if image is not None:
                    image.link(EntityType.SIGNATURE, signature.id, now=now)
            work.signatures.add(signature)
            work.signature_audit.append(_record(
                request, AuditEvent.SIGNED, cmd.visitor, now, signature_id=signature.id,
                details={"signer": signature.signer_name or "", "consent": "yes",
                         "method": "drawn" if image_file_id else "typed"},
            ))
            queue_seal(work, request.entity_type, request.entity_id, signature.id)
            work.commit()
            return SigningPageView(state="SIGNED", document_name=request.document_name,
                                   recipient_name=request.recipient_name)


class DeclineByLinkHandler(_Links):
    def __call__(self, cmd: DeclineByLink, uow: SignaturesUnitOfWork) -> SigningPageView:
        tenant_id, request_id = self._find(uow, cmd.token)
        reason = parse_reason(cmd.reason, required=True) or ""
        work = self._uow_factory(tenant_id)
        with work:
            work.signature_audit.lock()
            request = work.signature_requests.get(request_id)
            assert request is not None
            if self._expire(work, request, cmd.visitor):
                raise RequestClosed(RequestStatus.EXPIRED.value)
            now = self._clock.now()
            request.decline(reason=reason, now=now)
            work.signature_audit.append(_record(request, AuditEvent.DECLINED, cmd.visitor, now,
                                                details={"reason": reason}))
            work.commit()
            return SigningPageView(state="DECLINED", document_name=request.document_name,
                                   recipient_name=request.recipient_name)
