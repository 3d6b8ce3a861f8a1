"""Requests to sign, for people outside the tenant: ``sendSignatureApprovalEmail`` / ``...Whatsapp``,
``signatureRequests``, ``cancelSignatureRequest``.

The document is fixed when the request is made (its PDF rendered if needed, its SHA-256 kept
with the request). The link carries a random token; only its SHA-256 is stored, so the link is
given once: in the message, and in the reply to the caller. The message goes first, through the
emails or WhatsApp domain (which refuse a bad address, a missing connection or a closed window);
the request and its audit entries are written once it is queued, so a refused send leaves
nothing behind.
"""

from __future__ import annotations

from application.emails.commands import SendEmail
from application.shared.actors import tenant_actor
from application.shared.messages import page_size
from application.shared.modules import Messages
from application.shared.ports import Clock
from application.signatures.commands import (
    CancelSignatureRequest,
    FindSignatureRequests,
    SendSignatureApproval,
    SignaturePolicy,
)
from application.signatures.documents import parse_entity, render_document
from application.signatures.ports import SignaturesUnitOfWork
from application.signatures.signing import user_label
from application.signatures.views import SentRequestView, SignatureRequestView
from application.whatsapp.commands import SendWhatsapp, TemplateInput
from domain.shared.email import parse_email
from domain.shared.errors import InvalidInput
from domain.shared.model import parse_id
from domain.signatures.audit import AuditEvent, AuditRecord
from domain.signatures.errors import RequestNotFound
from domain.signatures.model import (
    RequestChannel,
    RequestStatus,
    SignatureRequest,
    expiry,
    new_token,
    parse_person_name,
    parse_reason,
)


def request_view(request: SignatureRequest) -> SignatureRequestView:
    return SignatureRequestView(
        id=request.id, entity_type=request.entity_type, entity_id=request.entity_id,
        document_sha256=request.document_sha256, document_name=request.document_name,
        channel=request.channel, recipient_name=request.recipient_name,
        recipient_email=request.recipient_email, recipient_phone=request.recipient_phone,
        status=request.status, created_at=request.created_at, expires_at=request.expires_at,
        closed_at=request.closed_at, decline_reason=request.decline_reason,
        signature_id=request.signature_id, outbound_message_id=request.outbound_message_id,
    )


def signing_link(policy: SignaturePolicy, token: str) -> str:
    return f"{policy.public_url.rstrip('/')}/sign/{token}"


class SendSignatureApprovalHandler:
    def __init__(self, messages: Messages, clock: Clock, policy: SignaturePolicy) -> None:
        self._messages = messages
        self._clock = clock
        self._policy = policy

    def __call__(self, cmd: SendSignatureApproval, uow: SignaturesUnitOfWork) -> SentRequestView:
        actor = tenant_actor(cmd.actor)
        try:
            channel = RequestChannel(str(cmd.channel).upper())
        except ValueError:
            raise InvalidInput("channel must be EMAIL or WHATSAPP", field="channel") from None
        kind, entity_id = parse_entity(cmd.entity_type, cmd.entity_id)
        name = parse_person_name(cmd.recipient_name, field="recipientName", required=True) or ""
        message = parse_reason(cmd.message, field="message")
        email = parse_email(cmd.recipient_email, field="recipientEmail") if channel is RequestChannel.EMAIL else None
        if channel is RequestChannel.WHATSAPP and not (cmd.recipient_phone or "").strip():
            raise InvalidInput("recipientPhone is required to send by WhatsApp", field="recipientPhone")
        now = self._clock.now()
        expires_at = expiry(cmd.expires_in, now)
        document = render_document(self._messages, uow, actor, kind, entity_id)
        token = new_token()
        link = signing_link(self._policy, token)
        phone = None
        if channel is RequestChannel.EMAIL:
            sent = self._messages.handle(SendEmail(
                actor=actor, to=(email or "",), kind="SIGNATURE_APPROVAL", message=message, action_url=link,
                entity_type=kind.value if kind.value != "FILE" else None,
                entity_id=entity_id if kind.value != "FILE" else None, locale=cmd.locale,
            ))
            outbound_id, queued = sent.id, AuditEvent.EMAIL_QUEUED
        else:
            text = f"{message}\n\n" if message else ""
            template = (
                TemplateInput(name=cmd.whatsapp_template, language=cmd.locale or "es", parameters=(link,))
                if cmd.whatsapp_template else None
            )
            sent_list = self._messages.handle(SendWhatsapp(
                actor=actor, to=cmd.recipient_phone, template=template,
                text=None if template else f"{text}Revise y firme {document.name}: {link}",
            ))
            outbound_id, queued, phone = sent_list[0].id, AuditEvent.WHATSAPP_QUEUED, sent_list[0].phone
        with uow:
            request = SignatureRequest.open(
                token=token, tenant_id=actor.tenant_id, entity_type=kind, entity_id=entity_id,
                document_file_id=document.id, document_sha256=document.sha256, document_name=document.name,
                channel=channel, recipient_name=name, recipient_email=email, recipient_phone=phone,
                message=message, created_by=actor.user_id, created_at=now, expires_at=expires_at,
                outbound_message_id=outbound_id,
            )
            uow.signature_requests.add(request)
            for event in (AuditEvent.REQUEST_CREATED, queued):
                uow.signature_audit.append(AuditRecord(
                    event=event, occurred_at=now, actor=user_label(actor), entity_type=kind.value,
                    entity_id=entity_id, document_sha256=document.sha256, request_id=request.id,
                    details={"recipient": request.recipient, "channel": channel.value,
                             "expires_at": expires_at.isoformat(), "message_id": outbound_id},
                ))
            uow.commit()
            return SentRequestView(request=request_view(request), link=link)


class CancelSignatureRequestHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: CancelSignatureRequest, uow: SignaturesUnitOfWork) -> SignatureRequestView:
        actor = tenant_actor(cmd.actor)
        request_id = parse_id(cmd.request_id, field="id")
        now = self._clock.now()
        with uow:
            request = uow.signature_requests.get(request_id)
            if request is None:
                raise RequestNotFound(f"signature request {request_id} not found", field="id")
            request.cancel(now=now)
            uow.signature_audit.append(AuditRecord(
                event=AuditEvent.CANCELLED, occurred_at=now, actor=user_label(actor),
                entity_type=request.entity_type.value, entity_id=request.entity_id,
                document_sha256=request.document_sha256, request_id=request.id,
            ))
            uow.commit()
            return request_view(request)


class FindSignatureRequestsHandler:
    def __init__(self, clock: Clock, policy: SignaturePolicy) -> None:
        self._clock = clock
        self._policy = policy

    def __call__(self, query: FindSignatureRequests, uow: SignaturesUnitOfWork) -> list[SignatureRequestView]:
        tenant_actor(query.actor)
        status = None if query.status in (None, "") else RequestStatus.parse(query.status or "")
        limit = page_size(query.first, default=50, maximum=self._policy.max_page_size)
        now = self._clock.now()
        with uow:
            found = uow.signature_requests.find(status, now=now, limit=limit)
            return [_as_of(request_view(request), request.is_expired(now)) for request in found]


def _as_of(view: SignatureRequestView, expired: bool) -> SignatureRequestView:
    """A request past its time but not yet marked is shown EXPIRED."""
    if not expired:
        return view
    fields = {name: getattr(view, name) for name in view.__dataclass_fields__}
    return SignatureRequestView(**{**fields, "status": RequestStatus.EXPIRED})
